import { api } from '../api.js';
import { ConfirmButton, type useAction } from '../ui.js';
import { ItemLabel } from './ItemLabel.js';

/**
 * Delete for a list item: asks first, sends DELETE to `path` through `action` (whose error the item
 * shows), and calls `onDeleted` only when the API agreed.
 */
export function DeleteItemButton({
  name,
  path,
  question,
  confirmLabel,
  action,
  onDeleted,
}: {
  name: string;
  path: string;
  question: string;
  confirmLabel: string;
  action: ReturnType<typeof useAction>;
  onDeleted: () => void;
}) {
  return (
    <ConfirmButton
      label={<ItemLabel text="Delete" name={name} />}
      question={question}
      confirmLabel={confirmLabel}
      onConfirm={() => action.run(() => api('DELETE', path)).then((ok) => ok && onDeleted())}
    />
  );
}
