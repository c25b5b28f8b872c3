import { analyticsQuerySchema, analyticsReportSchema } from '../../shared/schemas/analytics.js';
import { envelopeOf } from '../../shared/schemas/common.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData } from '../http/respond.js';
import type { AnalyticsService } from './analytics.service.js';

/** Usage figures for the bot owner (scope `analytics:read`). */
export function mountAnalyticsRoutes(api: ApiRouter, analytics: AnalyticsService): void {
  api.route(
    {
      method: 'get',
      path: '/analytics',
      tag: 'Analytics',
      summary:
        'Usage figures of the organization or one chatbot: totals, a series by day, week or month in a time zone, ' +
        'and the most asked questions, unanswered questions and cited sources',
      scope: 'analytics:read',
      query: analyticsQuerySchema,
      response: envelopeOf(analyticsReportSchema),
      errors: ['NotFoundError'],
    },
    async ({ query, principal, res }) => {
      sendData(res, await analytics.report(principal.organizationId, query));
    },
  );
}
