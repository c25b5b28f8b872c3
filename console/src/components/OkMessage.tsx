/** A change that went through, announced (the counterpart of ErrorMessage). */
export function OkMessage({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p class="ok" role="status">
      {message}
    </p>
  );
}
