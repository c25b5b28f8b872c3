import { useState } from 'preact/hooks';
import { useFocusReturn } from '../ui.js';
import { ItemLabel } from './ItemLabel.js';

/**
 * A list item edited in place: whether its editor is open, its Edit button's ref (which gets the
 * focus back when the editor closes), and the editor's ends: cancelled, or saved (then `onChanged`).
 */
export function useEditInPlace(onChanged: () => void) {
  const [editing, setEditing] = useState(false);
  const button = useFocusReturn(editing);
  return {
    editing,
    button,
    open: () => setEditing(true),
    cancel: () => setEditing(false),
    saved: () => {
      setEditing(false);
      onChanged();
    },
  };
}

/** The Edit button of an item edited in place (see useEditInPlace). */
export function EditButton({ name, edit }: { name: string; edit: ReturnType<typeof useEditInPlace> }) {
  return (
    <button type="button" ref={edit.button} onClick={edit.open}>
      <ItemLabel text="Edit" name={name} />
    </button>
  );
}
