import type { WidgetConfig } from '../../../shared/schemas/widget-settings.js';

type Field = WidgetConfig['leadCapture']['fields'][number];

/** Keyboard (inputmode), autocomplete token and the server's length limit, per field type. */
const INPUTS: Record<Field['type'], ['text' | 'email' | 'tel', string, number]> = {
  name: ['text', 'name', 100],
  email: ['email', 'email', 254],
  phone: ['tel', 'tel', 32],
  company: ['text', 'organization', 100],
  text: ['text', 'off', 1000],
};

/** One labelled answer of the lead form; the error text is tied to the input for screen readers. */
export function LeadField({ field, error }: { field: Field; error: string | undefined }) {
  const id = `wisp-lead-${field.key}`;
  const [inputMode, autoComplete, maxLength] = INPUTS[field.type];
  return (
    <div class="lead-field">
      <label for={id}>
        {field.label}
        {field.required && <span aria-hidden="true"> *</span>}
      </label>
      <input
        id={id}
        name={field.key}
        type="text"
        inputMode={inputMode}
        autoComplete={autoComplete}
        maxLength={maxLength}
        required={field.required}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      />
      {error && (
        <p id={`${id}-error`} class="error">
          {error}
        </p>
      )}
    </div>
  );
}
