/**
 * Whether a widget socket from `origin` may talk to a bot. An empty list allows every origin.
 * Otherwise the handshake's Origin header must be listed (case-insensitive); a handshake without
 * one (not a browser) is refused, since only browsers need the widget namespace.
 */
export function isOriginAllowed(
  allowedOrigins: readonly string[] | null | undefined,
  origin: string | undefined,
): boolean {
  if (!allowedOrigins || allowedOrigins.length === 0) return true;
  if (!origin) return false;
  const wanted = origin.toLowerCase();
  return allowedOrigins.some((allowed) => allowed.toLowerCase() === wanted);
}
