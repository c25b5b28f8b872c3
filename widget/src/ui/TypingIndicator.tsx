/** Three dots while the answer has not started (or is catching up after a reconnect). */
export function TypingIndicator({ label }: { label: string }) {
  return (
    <span class="typing" role="img" aria-label={label}>
      <span />
      <span />
      <span />
    </span>
  );
}
