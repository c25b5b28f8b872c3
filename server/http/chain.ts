import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Runs middleware one after the other as a single layer of the router: the same order and the same
 * errors (thrown, rejected or passed to `next`) as mounting them side by side, without the router
 * matching the mount path again and trimming the URL for each of them.
 */
export function chain(...handlers: RequestHandler[]): RequestHandler {
  return (req: Request, res: Response, done: NextFunction) => {
    let index = 0;
    const next = (error?: unknown): void => {
      if (error !== undefined && error !== null && error !== false) return done(error);
      const handler = handlers[index++];
      if (!handler) return done();
      try {
        const result = handler(req, res, next) as unknown;
        if (result instanceof Promise) result.catch((thrown: unknown) => done(thrown ?? new Error('rejected')));
      } catch (thrown) {
        done(thrown);
      }
    };
    next();
  };
}

/** Runs `parser` only for a request that has a body (as the parser itself decides: a length or chunked). */
export function whenBody(parser: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) return next();
    return parser(req, res, next);
  };
}
