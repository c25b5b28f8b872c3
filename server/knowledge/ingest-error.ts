/**
 * Why a source could not be processed. `retryable` failures (timeouts, 5xx,
 * a provider blip) are tried again with backoff; the others fail the source at once.
 */
export class IngestError extends Error {
  override name = 'IngestError';
  readonly retryable: boolean;

  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable;
  }
}

/** True unless the error says it is permanent; unknown errors (database blips) deserve another try. */
export function isRetryable(error: unknown): boolean {
  return error instanceof IngestError ? error.retryable : true;
}

/** A reason fit for the source's `failureReason`: our own messages, never raw library text. */
export function failureReason(error: unknown): string {
  if (error instanceof IngestError) return error.message.slice(0, 500);
  return 'processing failed unexpectedly';
}
