import type { RequestHandler } from 'express';
import { envelopeOf } from '../../shared/schemas/common.js';
import { leadSubmittedSchema, widgetLeadRequestSchema } from '../../shared/schemas/leads.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData } from '../http/respond.js';
import type { LeadsService } from '../leads/leads.service.js';
import type { WidgetAccess } from './widget-access.js';
import { requireBotOrigin } from './widget-cors.js';

/** Lead capture from the widget without a socket: public, CORS-checked, proven by the visitor token. */
export function mountWidgetLeadRoutes(
  api: ApiRouter,
  access: WidgetAccess,
  leads: LeadsService,
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
      const bot = await access.resolve(botRef);
      requireBotOrigin(access, bot, req, res);
      const visitorId = access.requireVisitor(bot._id.toString(), visitorToken);
      const result = await leads.submitFor(bot, {
        ...submission,
        visitorId,
        userAgent: req.get('user-agent') ?? null,
      });
      sendData(res, result, 201);
    },
  );
}
