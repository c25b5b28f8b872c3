/**
 * The closed set of error names the API and the widget socket answer with.
 * Each name maps to exactly one HTTP status so clients can branch on either.
 */
export const ERROR_STATUS = {
  BadRequestError: 400,
  UnauthorizedError: 401,
  ForbiddenError: 403,
  NotFoundError: 404,
  MethodNotAllowedError: 405,
  ConflictError: 409,
  PayloadTooLargeError: 413,
  UnsupportedMediaTypeError: 415,
  ValidationError: 422,
  /** An `Idempotency-Key` reused with a different request. */
  IdempotencyError: 422,
  RateLimitError: 429,
  QuotaExceededError: 429,
  InternalError: 500,
  UnavailableError: 503,
} as const;

/** One of the error names in {@link ERROR_STATUS}. */
export type ErrorName = keyof typeof ERROR_STATUS;

/** The error half of the response envelope. `details` is name-specific (e.g. failing fields). */
export interface ApiError {
  name: ErrorName;
  message: string;
  details: unknown;
}

/** Every HTTP response body of the API: exactly one of `data` and `error` is set; `success` says which. */
export type Envelope<T> =
  { success: true; data: T; error: null; meta?: PageMeta } | { success: false; data: null; error: ApiError };

/** Pagination metadata sent beside a list's `data`. */
export interface PageMeta {
  page: number;
  perPage: number;
  total: number;
}

/** One failing field of a `ValidationError`, as listed in its `details`. */
export interface FieldIssue {
  path: string;
  message: string;
}
