import type { ErrorRequestHandler, RequestHandler } from 'express';
import mongoose from 'mongoose';
import type { ApiError } from '../../shared/errors.js';
import type { Logger } from '../logger.js';
import { AppError } from '../errors/app-error.js';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import { requestSummary } from './request-log.js';

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

/** Turns anything thrown into the one error type, so the client sees a name, a status and a safe message. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const parserError = error as BodyParserError;
  if (parserError?.type === 'entity.parse.failed') {
    return new AppError('BadRequestError', { message: 'Malformed JSON in the request body' });
  }
  if (parserError?.type === 'entity.too.large') {
    return new AppError('PayloadTooLargeError', {
      message: `The request body is larger than the limit of ${parserError.limit ?? 'the server'} bytes`,
    });
  }
  if (parserError?.type === 'encoding.unsupported' || parserError?.type === 'charset.unsupported') {
    return new AppError('UnsupportedMediaTypeError', { message: 'Unsupported body encoding' });
  }
  if (isDuplicateKeyError(error)) {
    return new AppError('ConflictError', { message: 'A resource with the same unique value already exists' });
  }
  if (error instanceof mongoose.Error.CastError) {
    return new AppError('NotFoundError', { message: 'Not found' });
  }
  if (isDatabaseUnavailable(error)) {
    return new AppError('UnavailableError', {
      message: 'The database is unavailable; try again shortly',
      cause: error,
    });
  }
  return new AppError('InternalError', { cause: error });
}

/** The database could not be reached: a lost connection, also as a bulk write reports it (its `errorResponse`). */
function isDatabaseUnavailable(error: unknown): boolean {
  const reported = error instanceof mongoose.mongo.MongoBulkWriteError ? error.errorResponse : error;
  return (
    reported instanceof mongoose.mongo.MongoServerSelectionError ||
    reported instanceof mongoose.mongo.MongoNetworkError ||
    reported instanceof mongoose.mongo.MongoNotConnectedError ||
    reported instanceof mongoose.mongo.MongoTopologyClosedError
  );
}

/** The envelope for an error; raw error text and stacks never leave the server. */
export function errorBody(error: AppError): { success: false; data: null; error: ApiError } {
  return { success: false, data: null, error: { name: error.name, message: error.message, details: error.details } };
}

/**
 * The one error middleware: logs server faults with the request id and writes the envelope (or, on a
 * dialect's paths that answer errors in their own shape, `body`).
 */
export function errorHandler(logger: Logger, body: (error: AppError) => unknown = errorBody): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const appError = toAppError(error);
    if (appError.status >= 500) {
      const summary = requestSummary(req);
      logger.error({ ...(summary ? { req: summary } : {}), err: appError.cause ?? error }, appError.message);
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const [name, value] of Object.entries(appError.headers)) res.setHeader(name, value);
    res.status(appError.status).json(body(appError));
  };
}

/** Unknown routes answer the 404 envelope naming the method and path. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError('NotFoundError', { message: `No route for ${req.method} ${req.path}` }));
};
