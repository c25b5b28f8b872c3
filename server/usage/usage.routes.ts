import { z } from 'zod';
import { envelopeOf } from '../../shared/schemas/common.js';
import { PLANS } from '../organizations/plans.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData } from '../http/respond.js';
import type { UsageService } from './usage.service.js';

const usageReportSchema = z.object({
  period: z.string(),
  plan: z.enum(PLANS),
  messages: z.object({
    used: z.number(),
    limit: z.number().nullable().describe('The monthly message quota; null = unlimited'),
    resetsAt: z.string().describe('When the period ends and the count starts again (ISO 8601, UTC)'),
  }),
  tokens: z.object({ prompt: z.number(), completion: z.number(), total: z.number() }),
  modelFailures: z.number(),
  modelRetries: z.number(),
  sources: z.number(),
  storage: z.object({ characters: z.number(), chunks: z.number() }),
});

export function mountUsageRoutes(api: ApiRouter, usage: UsageService): void {
  api.route(
    {
      method: 'get',
      path: '/usage',
      tag: 'Usage',
      summary: "This month's messages, tokens, sources and storage",
      scope: 'admin',
      response: envelopeOf(usageReportSchema),
    },
    async ({ principal, res }) => {
      sendData(res, await usage.report(principal.organizationId));
    },
  );
}
