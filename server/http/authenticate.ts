import type { RequestHandler } from 'express';
import type { ApiKeysService } from '../api-keys/api-keys.service.js';
import { AppError } from '../errors/app-error.js';

/** Resolves `Authorization: Bearer <key>` to a principal on `res.locals.principal`. */
export function authenticate(apiKeys: ApiKeysService, failedAttemptLimit: RequestHandler): RequestHandler {
  return async (req, res, next) => {
    const header = req.headers.authorization;
    if (!header) {
      throw new AppError('UnauthorizedError', {
        message: 'Missing API key: send `Authorization: Bearer sk_live_...`',
      });
    }
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      throw new AppError('UnauthorizedError', { message: 'The Authorization header must be `Bearer <key>`' });
    }
    try {
      res.locals.principal = await apiKeys.authenticate(match[1]);
    } catch (error) {
      // Only failed attempts count against the address, so guessing keys is slow but good keys are never slowed.
      if (error instanceof AppError && error.name === 'UnauthorizedError') {
        // Past the limit the limiter passes its RateLimitError on; otherwise the 401 stands.
        return failedAttemptLimit(req, res, (limitError?: unknown) => next(limitError ?? error));
      }
      throw error;
    }
    next();
  };
}
