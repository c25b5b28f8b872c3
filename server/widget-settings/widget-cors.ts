import type { Request, RequestHandler, Response } from 'express';
import { AppError } from '../http/app-error.js';
import { originAllowed } from './widget-config.js';

/** Paths under `/api/v1` that the widget calls from the bot owner's site; each bot decides which origins may. */
export const WIDGET_PUBLIC_PATHS: readonly string[] = ['/widget-config', '/widget/leads'];

const EXPOSED_HEADERS = 'ETag, RateLimit, RateLimit-Policy, Retry-After, X-Request-Id';

function isWidgetPublicPath(path: string): boolean {
  return WIDGET_PUBLIC_PATHS.includes(path.length > 1 ? path.replace(/\/+$/, '') : path);
}

/**
 * CORS for the widget's public paths, mounted on `/api/v1` before the API's open policy.
 * The origin is granted here provisionally, so early refusals (429, 422, unknown bot) stay
 * readable by the widget; the route withdraws the grant with {@link requireBotOrigin} once it
 * knows the bot. Preflights carry no body (so no bot for a POST): they only say which methods
 * and headers may follow, and the real request is the gate.
 */
export function widgetCors(): RequestHandler {
  return (req, res, next) => {
    if (!isWidgetPublicPath(req.path)) return next();
    res.vary('Origin');
    const origin = req.headers.origin;
    if (origin) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    if (req.method !== 'OPTIONS') return next();
    res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, If-None-Match, X-Request-Id');
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}

/** Wraps the API's open CORS policy so it leaves the widget's public paths to {@link widgetCors}. */
export function exceptWidgetPublicPaths(handler: RequestHandler): RequestHandler {
  return (req, res, next) => (isWidgetPublicPath(req.path) ? next() : handler(req, res, next));
}

/** Keeps the CORS grant when the bot allows the request's origin; otherwise withdraws it and answers 403. */
export function requireBotOrigin(req: Request, res: Response, allowedOrigins: string[]): void {
  const origin = req.headers.origin;
  if (originAllowed(allowedOrigins, origin)) return;
  res.removeHeader('Access-Control-Allow-Origin');
  res.removeHeader('Access-Control-Expose-Headers');
  throw new AppError('ForbiddenError', {
    message: `This bot's widget may not be used from ${String(origin).slice(0, 200)}`,
    details: { origin: String(origin).slice(0, 200) },
  });
}
