import { Field } from '../ui.js';

/** A labelled textarea for JSON (or other text typed as code): monospace, no spellcheck. */
export function CodeField({
  label,
  hint,
  rows,
  value,
  onValue,
}: {
  label: string;
  hint: string;
  rows: number;
  value: string;
  onValue: (value: string) => void;
}) {
  return (
    <Field label={label} hint={hint}>
      {(p) => (
        <textarea
          {...p}
          class="code"
          rows={rows}
          spellcheck={false}
          value={value}
          onInput={(e) => onValue(e.currentTarget.value)}
        />
      )}
    </Field>
  );
}
