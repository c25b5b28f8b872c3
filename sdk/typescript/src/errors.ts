/** What every error the client throws carries: the API's error name, message and details, and the HTTP status. */
export class WispError extends Error {
  /** The API's error name (`NotFoundError`, `RateLimitError`, …), or `ConnectionError` / `TimeoutError`. */
  override readonly name: string;
  /** The HTTP status; null when no response arrived, or the error came inside a stream. */
  readonly status: number | null;
  /** Name-specific details (e.g. `fields` of a `ValidationError`). */
  readonly details: unknown;
  /** The server's `X-Request-Id`, to quote when asking for help. */
  readonly requestId: string | null;
  /** Seconds the server asked to wait (`Retry-After`), when it did. */
  readonly retryAfter: number | null;

  constructor(options: {
    name: string;
    message: string;
    status?: number | null;
    details?: unknown;
    requestId?: string | null;
    retryAfter?: number | null;
    cause?: unknown;
  }) {
    super(options.message, { cause: options.cause });
    this.name = options.name;
    this.status = options.status ?? null;
    this.details = options.details ?? null;
    this.requestId = options.requestId ?? null;
    this.retryAfter = options.retryAfter ?? null;
  }
}

/** The server answered with an error envelope (`{ data: null, error: { name, message, details } }`). */
export class WispApiError extends WispError {}

/** No response: the server could not be reached or the connection broke. */
export class WispConnectionError extends WispError {
  constructor(message: string, cause: unknown) {
    super({ name: 'ConnectionError', message, cause });
  }
}

/** No response within the request's timeout. */
export class WispTimeoutError extends WispError {
  constructor(timeoutMs: number) {
    super({ name: 'TimeoutError', message: `No response within ${timeoutMs} ms` });
  }
}

/** Seconds from a `Retry-After` header (seconds or an HTTP date); null when absent or unreadable. */
export function retryAfterSeconds(headers: Headers): number | null {
  const value = headers.get('retry-after');
  if (value === null) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

interface ErrorBody {
  error?: { name?: unknown; message?: unknown; details?: unknown } | null;
}

/** The typed error of a failed response, from its envelope (or its status alone when the body is not one). */
export async function errorFromResponse(res: Response): Promise<WispApiError> {
  const text = await res.text().catch(() => '');
  let body: ErrorBody | null = null;
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    // Not JSON (a proxy's error page): the status speaks for itself.
  }
  const error = body?.error;
  return new WispApiError({
    name: typeof error?.name === 'string' ? error.name : `HttpError${res.status}`,
    message:
      typeof error?.message === 'string'
        ? error.message
        : `HTTP ${res.status}: ${text.slice(0, 200) || res.statusText}`,
    status: res.status,
    details: error?.details ?? null,
    requestId: res.headers.get('x-request-id'),
    retryAfter: retryAfterSeconds(res.headers),
  });
}
