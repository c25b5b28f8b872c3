import type { Request, RequestHandler, Response } from 'express';
import type { PublicBot, WidgetAccess } from './widget-access.js';

/** Paths under `/api/v1` that the widget calls from the bot owner's site; each bot decides which origins may. */
export const WIDGET_PUBLIC_PATHS: readonly string[] = ['/widget-config', '/widget/leads'];

const EXPOSED_HEADERS = 'ETag, RateLimit, RateLimit-Policy, Retry-After, X-Request-Id';

function isWidgetPublicPath(path: string): boolean {
  return WIDGET_PUBLIC_PATHS.includes(path.length > 1 ? path.replace(/\/+$/, '') : path);
}

/**
 * CORS for the widget's public paths, mounted on `/api/v1` before the API's open policy, which every other
 * path gets (`otherPaths`): the path is looked at once for both.
 * On a real request the origin is granted provisionally, so early refusals (429, 422, unknown
 * bot) stay readable by the widget; the route withdraws the grant with {@link requireBotOrigin}
 * once it knows the bot. A preflight is granted only when the bot its URL names allows the
 * origin (`GET /widget-config?bot=…`), or, when the bot is in a body it does not carry
 * (`POST /widget/leads`), when some active bot does; the real request is still the gate.
 */
export function widgetCors(
  access: Pick<WidgetAccess, 'preflightAllowed'>,
  otherPaths: RequestHandler = (_req, _res, next) => next(),
): RequestHandler {
  const preflight = async (req: Request, res: Response, origin: string | undefined) => {
    const bot = typeof req.query.bot === 'string' ? req.query.bot.slice(0, 200) : null;
    if (origin && (await access.preflightAllowed(origin, bot))) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, If-None-Match, X-Request-Id, Idempotency-Key');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    res.status(204).end();
  };
  return (req, res, next) => {
    if (!isWidgetPublicPath(req.path)) return otherPaths(req, res, next);
    res.vary('Origin');
    const origin = req.headers.origin;
    if (req.method === 'OPTIONS') return preflight(req, res, origin);
    if (origin) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    next();
  };
}

/** The gate's origin check of a real request: a refusal also withdraws the provisional CORS grant. */
export function requireBotOrigin(access: WidgetAccess, bot: PublicBot, req: Request, res: Response): void {
  try {
    access.requireOrigin(bot, req.headers.origin);
  } catch (error) {
    res.removeHeader('Access-Control-Allow-Origin');
    res.removeHeader('Access-Control-Expose-Headers');
    throw error;
  }
}
