/** A control's text ("Edit") that screen readers hear with the item it acts on ("Edit Support bot"). */
export function ItemLabel({ text, name }: { text: string; name: string }) {
  return (
    <span>
      {text}
      <span class="visually-hidden"> {name}</span>
    </span>
  );
}
