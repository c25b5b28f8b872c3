import { Field } from '../ui.js';

/** A labelled one-line text input whose value is typed in place (not a secret: see TextInput). */
export function TextField({
  label,
  hint,
  value,
  onValue,
  ...props
}: {
  label: string;
  hint?: string;
  value: string;
  onValue: (value: string) => void;
  required?: boolean;
  maxLength?: number;
  placeholder?: string;
  spellcheck?: boolean;
}) {
  return (
    <Field label={label} hint={hint}>
      {(p) => <input {...p} {...props} value={value} onInput={(e) => onValue(e.currentTarget.value)} />}
    </Field>
  );
}
