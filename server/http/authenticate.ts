import type { RequestHandler } from 'express';
import type { ApiKeysService } from '../api-keys/api-keys.service.js';
import type { ConsoleSessionsService } from '../console/console-sessions.service.js';
import { SAFE_METHODS, sessionTokenOf } from '../console/session-cookie.js';
import { AppError } from '../errors/app-error.js';

const BEARER = /^Bearer\s+(\S+)$/i;

/**
 * Resolves `Authorization: Bearer <key>`, or else the owner console's session cookie (with the
 * key's scopes, and a CSRF token on every change), to a principal on `res.locals.principal`.
 */
export function authenticate(
  apiKeys: ApiKeysService,
  failedAttemptLimit: RequestHandler,
  consoleSessions?: ConsoleSessionsService,
): RequestHandler {
  const resolve: RequestHandler = async (req, res, next) => {
    const header = req.headers.authorization;
    const sessionToken = header || !consoleSessions ? null : sessionTokenOf(req);
    if (!header && !sessionToken) {
      throw new AppError('UnauthorizedError', {
        message: 'Missing API key: send `Authorization: Bearer sk_live_...`',
      });
    }
    const match = header ? BEARER.exec(header) : null;
    if (header && !match?.[1]) {
      throw new AppError('UnauthorizedError', { message: 'The Authorization header must be `Bearer <key>`' });
    }
    try {
      if (sessionToken && consoleSessions) {
        const principal = await consoleSessions.authenticate(sessionToken);
        if (!SAFE_METHODS.has(req.method)) consoleSessions.checkCsrf(sessionToken, req.get('x-csrf-token'));
        res.locals.principal = principal;
        return next();
      }
      res.locals.principal = await apiKeys.authenticate(match?.[1] ?? '');
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
  // A key in the cache (nearly every request of a client that keeps calling) is settled without a promise.
  return (req, res, next) => {
    const match = BEARER.exec(req.headers.authorization ?? '');
    const principal = match?.[1] ? apiKeys.cachedPrincipal(match[1]) : undefined;
    if (!principal) return resolve(req, res, next);
    res.locals.principal = principal;
    next();
  };
}
