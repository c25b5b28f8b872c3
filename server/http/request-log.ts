import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Logger } from '../logger.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** What a request log line says of the request: its id, method and URL as the client sent it. */
export interface RequestSummary {
  id: string;
  method: string;
  url: string;
}

const SUMMARY = Symbol('request summary');

/** The request's id, method and URL, for a log line about it (null before {@link requestLog} ran). */
export function requestSummary(req: Request): RequestSummary | null {
  return (req as unknown as { [SUMMARY]?: RequestSummary })[SUMMARY] ?? null;
}

/**
 * Gives each request an id (the caller's `X-Request-Id` when well formed, else a UUID), returns it as
 * `X-Request-Id`, and writes one short line when the response is done: `req` (id, method, URL),
 * `res` (status), `responseTime` (ms), message `request completed` (`request errored` with `err` from 500
 * on). The line is the one pino-http wrote, without a child logger per request: nothing is built when
 * `info` is off, and one listener (`close`, which follows `finish` and also covers an aborted request)
 * per request when it is on.
 */
export function requestLog(logger: Logger, ignore: (url: string) => boolean = () => false): RequestHandler {
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const summary: RequestSummary = { id, method: req.method, url: req.url };
    (req as unknown as { [SUMMARY]: RequestSummary })[SUMMARY] = summary;
    res.setHeader('X-Request-Id', id);
    if (logger.isLevelEnabled('info') && !ignore(req.url)) {
      const start = Date.now();
      res.once('close', () => {
        const responseTime = Date.now() - start;
        const status = res.statusCode;
        if (status >= 500) {
          logger.info(
            {
              req: summary,
              res: { statusCode: status },
              err: new Error(`failed with status code ${status}`),
              responseTime,
            },
            'request errored',
          );
        } else {
          logger.info({ req: summary, res: { statusCode: status }, responseTime }, 'request completed');
        }
      });
    }
    next();
  };
}
