import type { RequestHandler } from 'express';
import { envelopeOf } from '../../shared/schemas/common.js';
import { leadSubmittedSchema, widgetLeadRequestSchema } from '../../shared/schemas/leads.js';
import type { ApiRouter } from '../http/api-router.js';
import { AppError } from '../errors/app-error.js';
import { sendData } from '../http/respond.js';
import type { VisitorTokens } from './visitor-token.js';
import { requireBotOrigin } from './widget-cors.js';
import type { WidgetSettingsService } from '../widget-settings/widget-settings.service.js';
import type { LeadsService } from '../leads/leads.service.js';

/** Lead capture from the widget without a socket: public, CORS-checked, proven by the visitor token. */
export function mountWidgetLeadRoutes(
  api: ApiRouter,
  leads: LeadsService,
  widgetSettings: WidgetSettingsService,
  visitorTokens: VisitorTokens,
  ipLimit: RequestHandler,
): void {
  api.route(
    {
      method: 'post',
      path: '/widget/leads',
      tag: 'Widget',
      summary: "Submit the widget's lead form (same as the socket's lead:submit)",
      scope: 'public',
      body: widgetLeadRequestSchema,
      response: envelopeOf(leadSubmittedSchema),
      status: 201,
      errors: ['UnauthorizedError', 'ForbiddenError', 'NotFoundError'],
      before: [ipLimit],
    },
    async ({ body, req, res }) => {
      const { bot: botRef, visitorToken, ...submission } = body;
      const bot = await widgetSettings.resolvePublicBot(botRef);
      requireBotOrigin(req, res, bot.allowedOrigins ?? []);
      const visitorId = visitorTokens.verify(bot._id.toString(), visitorToken);
      if (!visitorId) {
        throw new AppError('UnauthorizedError', { message: 'The visitor token is not valid for this bot' });
      }
      const result = await leads.submitFor(bot, {
        ...submission,
        visitorId,
        userAgent: req.get('user-agent') ?? null,
      });
      sendData(res, result, 201);
    },
  );
}
