import type { ErrorRequestHandler } from 'express';
import type { ErrorName } from '../../shared/errors.js';
import type { FieldIssue } from '../../shared/errors.js';
import { AppError } from '../errors/app-error.js';
import { isUnknownFieldIssue } from '../errors/parse.js';
import { errorHandler } from '../http/error-handler.js';
import type { Logger } from '../logger.js';

/** OpenAI's error body: what OpenAI clients read to build their exceptions. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A door-specific hint an AppError may carry in `details`, for the OpenAI body's `param` and `code`. */
interface OpenAiHint {
  param?: string;
  code?: string;
}

const CODES: Partial<Record<ErrorName, string>> = {
  UnauthorizedError: 'invalid_api_key',
  ForbiddenError: 'insufficient_permissions',
  NotFoundError: 'not_found',
  ConflictError: 'conflict',
  PayloadTooLargeError: 'payload_too_large',
  RateLimitError: 'rate_limit_exceeded',
  QuotaExceededError: 'insufficient_quota',
  UnavailableError: 'service_unavailable',
};

function typeOf(error: AppError): string {
  if (error.name === 'QuotaExceededError') return 'insufficient_quota';
  if (error.status === 401) return 'authentication_error';
  if (error.status === 403) return 'permission_error';
  if (error.status === 429) return 'rate_limit_error';
  if (error.status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** Wisp's error as OpenAI words one: the same message, the failing field as `param`. */
export function openAiErrorBody(error: AppError): OpenAiErrorBody {
  const details = (error.details ?? {}) as OpenAiHint & { fields?: FieldIssue[] };
  const field = Array.isArray(details.fields) ? details.fields[0] : undefined;
  const code =
    details.code ?? (field ? (isUnknownFieldIssue(field) ? 'unknown_parameter' : 'invalid_value') : CODES[error.name]);
  return {
    error: {
      message: error.message,
      type: typeOf(error),
      param: details.param ?? field?.path ?? null,
      code: code ?? null,
    },
  };
}

/** An AppError whose OpenAI body names `param` and `code`. */
export function openAiError(name: ErrorName, message: string, hint: OpenAiHint & Record<string, unknown>): AppError {
  const fields = hint.param ? [{ path: hint.param, message }] : [];
  return new AppError(name, { message, details: { ...hint, fields } });
}

/**
 * The error middleware of the OpenAI-compatible paths: every failure there (a bad key, a rate limit, a
 * body that is not JSON, an unknown route) answers OpenAI's error body with Wisp's status and headers.
 */
export const openAiErrorHandler = (logger: Logger): ErrorRequestHandler => errorHandler(logger, openAiErrorBody);
