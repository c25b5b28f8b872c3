import type { RequestHandler } from 'express';
import { envelopeOf } from '../../shared/schemas/common.js';
import { widgetConfigQuerySchema, widgetConfigSchema } from '../../shared/schemas/widget-settings.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData } from '../http/respond.js';
import { etagMatches } from '../widget-settings/widget-config.js';
import { requireBotOrigin } from './widget-cors.js';
import type { WidgetSettingsService } from '../widget-settings/widget-settings.service.js';

/** Browsers and CDNs may reuse the config this long; settings changes reach open widgets over the socket. */
const MAX_AGE_SECONDS = 60;

/** The widget's public config: no key, CORS per bot, cacheable with an ETag. */
export function mountWidgetConfigRoutes(
  api: ApiRouter,
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
      const { config, etag, allowedOrigins } = await widgetSettings.publicConfig(query.bot);
      requireBotOrigin(req, res, allowedOrigins);
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
