import { z } from 'zod';
import { chatbotSchema } from '../../shared/schemas/chatbots.js';
import { envelopeOf, idOrSlugSchema, pageOf } from '../../shared/schemas/common.js';
import { knowledgeCreateSchema, knowledgeListQuerySchema, replaceChatbotSchema } from '../../shared/schemas/compat.js';
import { sourceSchema } from '../../shared/schemas/sources.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData, sendPage } from '../http/respond.js';
import type { KnowledgeService } from '../knowledge/knowledge.service.js';
import { uploadedFile, uploadMiddleware } from '../knowledge/upload.js';
import { fileUploadBody } from './mapping.js';

/**
 * The `chatbotId` + `/knowledge` dialect (its chat is the native `POST /api/v1/chat`; its
 * `success` field is in every envelope): sources named by a body or query `chatbotId`, and `PUT` on chatbots.
 */
export function mountKnowledgeApiRoutes(
  api: ApiRouter,
  knowledge: KnowledgeService,
  chatbots: ChatbotsService,
  maxUploadBytes: number,
): void {
  const tag = 'compatibility';
  api.route(
    {
      method: 'post',
      path: '/knowledge',
      tag,
      summary:
        'Add knowledge to a chatbot (`chatbotId` plus a source as `POST /chatbots/{id}/sources` takes it; a file as multipart/form-data); answers 202, queued',
      scope: 'knowledge:write',
      body: knowledgeCreateSchema,
      otherBodies: fileUploadBody('chatbotId'),
      response: envelopeOf(sourceSchema),
      status: 202,
      errors: ['NotFoundError', 'UnsupportedMediaTypeError'],
      before: [uploadMiddleware(maxUploadBytes)],
    },
    async ({ body, principal, req, res }) => {
      const { chatbotId, ...source } = body;
      const created = await knowledge.sources.create(
        principal.organizationId,
        chatbotId,
        source,
        uploadedFile(req.file),
      );
      sendData(res, created, 202);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/knowledge',
      tag,
      summary: "List knowledge sources: one chatbot's (`chatbotId`) or the whole organization's",
      scope: 'knowledge:read',
      query: knowledgeListQuerySchema,
      response: pageOf(sourceSchema),
      errors: ['NotFoundError'],
    },
    async ({ query, principal, res }) => {
      const { page, perPage, chatbotId, status, type } = query;
      const filters = { status, type };
      const { items, total } = await knowledge.sources.list(
        principal.organizationId,
        chatbotId ?? null,
        filters,
        page,
        perPage,
      );
      sendPage(res, items, { page, perPage, total });
    },
  );
  api.route(
    {
      method: 'put',
      path: '/chatbots/:id',
      tag,
      summary:
        "Replace a chatbot's settings: fields left out take their defaults (as at creation), except the slug, which is kept",
      scope: 'admin',
      params: z.object({ id: idOrSlugSchema }),
      body: replaceChatbotSchema,
      response: envelopeOf(chatbotSchema),
      errors: ['NotFoundError', 'ConflictError'],
    },
    async ({ params, body, principal, res }) => {
      sendData(res, await chatbots.update(principal.organizationId, params.id, body));
    },
  );
}
