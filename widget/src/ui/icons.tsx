/** Inline SVG icons; decorative (`aria-hidden`), the buttons carry the labels. */
function Icon({ d, fill = false }: { d: string; fill?: boolean }) {
  return (
    <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path
        d={d}
        fill={fill ? 'currentColor' : 'none'}
        stroke="currentColor"
        stroke-width={fill ? 0 : 2}
        stroke-linecap="round"
        stroke-linejoin="round"
      />
    </svg>
  );
}

export const CloseIcon = () => <Icon d="M6 6l12 12M18 6L6 18" />;
export const NewIcon = () => <Icon d="M4 12a8 8 0 1 0 2.3-5.6M4 4v4h4" />;
export const SendIcon = () => <Icon d="M3 11l18-8-8 18-2-8-8-2z" fill />;
export const ThumbUpIcon = () => (
  <Icon d="M7 22V11M2 13v7a2 2 0 0 0 2 2h12.4a2 2 0 0 0 2-1.7l1.4-8A2 2 0 0 0 17.8 10H14V5a3 3 0 0 0-3-3l-4 9" />
);
export const ThumbDownIcon = () => (
  <Icon d="M17 2v11M22 11V4a2 2 0 0 0-2-2H7.6a2 2 0 0 0-2 1.7l-1.4 8A2 2 0 0 0 6.2 14H10v5a3 3 0 0 0 3 3l4-9" />
);
