import type { RequestHandler } from 'express';
import { envelopeOf } from '../../shared/schemas/common.js';
import { widgetConfigQuerySchema, widgetConfigSchema } from '../../shared/schemas/widget-settings.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData } from '../http/respond.js';
import type { WidgetSettingsService } from '../widget-settings/widget-settings.service.js';
import type { WidgetAccess } from './widget-access.js';
import { requireBotOrigin } from './widget-cors.js';

/** Browsers and CDNs may reuse the config this long; settings changes reach open widgets over the socket. */
const MAX_AGE_SECONDS = 60;

/**
 * Whether an `If-None-Match` header names `etag` (weak comparison, lists and `*` allowed).
 * Checked here rather than by Express's `req.fresh`, which ignores the header whenever the
 * request says `Cache-Control: no-cache` — as fetch() does on every conditional request it builds.
 */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === opaque(etag));
}

/** The widget's public config: no key, CORS per bot, cacheable with an ETag. */
export function mountWidgetConfigRoutes(
  api: ApiRouter,
  access: WidgetAccess,
  widgetSettings: WidgetSettingsService,
  ipLimit: RequestHandler,
): void {
  api.route(
    {
      method: 'get',
      path: '/widget-config',
      tag: 'Widget',
      summary: 'The public config a widget renders from (by bot id or slug)',
      scope: 'public',
      query: widgetConfigQuerySchema,
      response: envelopeOf(widgetConfigSchema),
      errors: ['NotFoundError', 'ForbiddenError'],
      before: [ipLimit],
    },
    async ({ query, req, res }) => {
      const bot = await access.resolve(query.bot);
      requireBotOrigin(access, bot, req, res);
      const { config, etag } = widgetSettings.configOf(bot);
      res.setHeader('ETag', etag);
      res.setHeader('Cache-Control', `public, max-age=${MAX_AGE_SECONDS}`);
      if (etagMatches(req.get('if-none-match'), etag)) {
        res.status(304).end();
        return;
      }
      sendData(res, config);
    },
  );
}
