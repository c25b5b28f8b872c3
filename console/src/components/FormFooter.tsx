import { ErrorMessage } from '../ui.js';

/** The end of an editor form: why the save failed, the submit button, and Cancel when the form can close. */
export function FormFooter({
  error,
  submitLabel,
  disabled,
  onCancel,
}: {
  error: string | null;
  submitLabel: string;
  disabled: boolean;
  onCancel?: () => void;
}) {
  return (
    <>
      <ErrorMessage error={error} />
      <div class="row">
        <button type="submit" class="primary" disabled={disabled}>
          {submitLabel}
        </button>
        {onCancel ? (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </>
  );
}
