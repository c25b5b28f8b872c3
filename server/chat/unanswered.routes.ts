import { z } from 'zod';
import { envelopeOf, idOrSlugSchema, objectIdSchema, pageOf } from '../../shared/schemas/common.js';
import { answerGapSchema, gapSchema, listGapsQuerySchema } from '../../shared/schemas/gap-log.js';
import { sourceSchema } from '../../shared/schemas/sources.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData, sendPage } from '../http/respond.js';
import type { SourcesService } from '../knowledge/sources.service.js';
import type { UnansweredService } from './unanswered.service.js';

const gapParams = z.object({ id: idOrSlugSchema, gapId: objectIdSchema });

/** The gap log's doors: list the questions the bot could not answer, resolve them, or answer them. */
export function mountGapLogRoutes(
  api: ApiRouter,
  chatbots: ChatbotsService,
  unanswered: UnansweredService,
  sources: SourcesService,
): void {
  const tag = 'Chatbots';
  api.route(
    {
      method: 'get',
      path: '/chatbots/:id/unanswered',
      tag,
      summary:
        'The gap log: questions answered with low confidence or none (greetings and small talk left out), repeats counted together, most repeated first; open ones unless `status` says otherwise',
      scope: 'conversations:read',
      params: z.object({ id: idOrSlugSchema }),
      query: listGapsQuerySchema,
      response: pageOf(gapSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, query, principal, res }) => {
      const bot = await chatbots.find(principal.organizationId, params.id);
      const { items, total } = await unanswered.list(bot._id, query.status, query.page, query.perPage);
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
  api.route(
    {
      method: 'post',
      path: '/chatbots/:id/unanswered/:gapId/resolve',
      tag,
      summary: 'Mark a question of the gap log resolved (it opens again if visitors ask it and it is still unanswered)',
      scope: 'knowledge:write',
      params: gapParams,
      response: envelopeOf(gapSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, principal, res }) => {
      const bot = await chatbots.find(principal.organizationId, params.id);
      sendData(res, await unanswered.resolve(bot._id, params.gapId));
    },
  );
  api.route(
    {
      method: 'post',
      path: '/chatbots/:id/unanswered/:gapId/answer',
      tag,
      summary:
        'Answer a question of the gap log: the question and answer become a text source of the bot (processed in the background like any source), and the question is marked resolved',
      scope: 'knowledge:write',
      params: gapParams,
      body: answerGapSchema,
      response: envelopeOf(z.object({ gap: gapSchema, source: sourceSchema })),
      status: 201,
      errors: ['NotFoundError'],
    },
    async ({ params, body, principal, res }) => {
      const bot = await chatbots.find(principal.organizationId, params.id);
      const gap = await unanswered.get(bot._id, params.gapId);
      // The question's own words go into the source, so the next visitor who asks it finds it.
      const source = await sources.create(
        principal.organizationId,
        bot._id.toString(),
        { type: 'text', title: body.title ?? gap.question.slice(0, 200), content: `${gap.question}\n\n${body.answer}` },
        null,
      );
      sendData(res, { gap: await unanswered.resolve(bot._id, gap.id, source.id), source }, 201);
    },
  );
}
