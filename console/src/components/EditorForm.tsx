import type { ComponentChildren } from 'preact';
import { useFocusFirstField, type useAction } from '../ui.js';

/**
 * An editor's form, in a card: it takes the focus into its first field when `focusFirst` (opened in
 * place to edit a record) and saves through `action`, so a failed save keeps what was typed.
 */
export function EditorForm({
  label,
  focusFirst,
  action,
  onSave,
  children,
}: {
  label: string;
  focusFirst: boolean;
  action: ReturnType<typeof useAction>;
  onSave: () => Promise<void>;
  children: ComponentChildren;
}) {
  const form = useFocusFirstField(focusFirst);
  return (
    <form
      ref={form}
      class="card"
      aria-label={label}
      onSubmit={async (e) => {
        e.preventDefault();
        await action.run(onSave);
      }}
    >
      {children}
    </form>
  );
}
