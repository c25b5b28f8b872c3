import type { RequestHandler } from 'express';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * Helmet's headers, worked out once: helmet's policy is the same for every request, so its middleware
 * is run at start against a recorder and each request gets the recorded headers in one loop, instead of
 * a dozen middleware calls building the same values again. Options whose values depend on the request
 * (a CSP directive given as a function) are refused, since a recording could not honour them.
 */
export function securityHeaders(options: HelmetOptions): RequestHandler {
  const csp = options.contentSecurityPolicy;
  const directives = typeof csp === 'object' ? Object.values(csp.directives ?? {}) : [];
  if (
    directives.some(
      (value) => typeof value === 'function' || (Array.isArray(value) && value.some((v) => typeof v === 'function')),
    )
  ) {
    throw new Error('securityHeaders: a CSP directive computed per request needs helmet itself');
  }
  const set: Array<[string, string]> = [];
  const removed: string[] = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      set.push([name, Array.isArray(value) ? value.join(', ') : String(value)]);
      return recorder;
    },
    removeHeader(name: string) {
      removed.push(name);
    },
  };
  let done = false;
  let failure: unknown = null;
  helmet(options)({} as never, recorder as never, (error?: unknown) => {
    done = true;
    failure = error ?? null;
  });
  if (!done || failure) throw new Error('securityHeaders: helmet did not answer synchronously with static headers');
  return (_req, res, next) => {
    for (let i = 0; i < set.length; i += 1) res.setHeader(set[i]![0], set[i]![1]);
    for (let i = 0; i < removed.length; i += 1) res.removeHeader(removed[i]!);
    next();
  };
}
