import { ERROR_STATUS, type ErrorName } from '../../shared/errors.js';

export interface AppErrorOptions {
  message?: string;
  details?: unknown;
  cause?: unknown;
  /** Extra response headers, e.g. `Retry-After`. */
  headers?: Record<string, string>;
}

const DEFAULT_MESSAGES: Record<ErrorName, string> = {
  BadRequestError: 'The request could not be read',
  UnauthorizedError: 'A valid API key is required: send `Authorization: Bearer sk_live_...`',
  ForbiddenError: 'This API key may not do that',
  NotFoundError: 'Not found',
  MethodNotAllowedError: 'This path does not take that method',
  ConflictError: 'That conflicts with an existing resource',
  PayloadTooLargeError: 'The request body is too large',
  UnsupportedMediaTypeError: 'Unsupported content type',
  ValidationError: 'The request is invalid',
  IdempotencyError: 'This Idempotency-Key was already used with a different request',
  RateLimitError: 'Too many requests: slow down and retry after the time in Retry-After',
  QuotaExceededError: "This organization's monthly message quota is used up",
  InternalError: 'Something went wrong on our side',
  UnavailableError: 'A service we depend on is unavailable; try again shortly',
};

/** The one error type services throw; its name fixes the HTTP status. */
export class AppError extends Error {
  override readonly name: ErrorName;
  readonly status: number;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(name: ErrorName, options: AppErrorOptions = {}) {
    super(options.message ?? DEFAULT_MESSAGES[name], { cause: options.cause });
    this.name = name;
    this.status = ERROR_STATUS[name];
    this.details = options.details ?? null;
    this.headers = options.headers ?? {};
  }
}

/** Shorthand for the 404 every cross-tenant or missing lookup answers. */
export function notFound(what: string, id?: string): AppError {
  return new AppError('NotFoundError', {
    message: id ? `No ${what} with id or slug "${id}"` : `${what} not found`,
  });
}
