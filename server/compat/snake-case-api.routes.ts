import { z } from 'zod';
import type { CreateSourceInput } from '../../shared/schemas/sources.js';
import { envelopeOf } from '../../shared/schemas/common.js';
import {
  snakeChatRequestSchema,
  snakeChatResultSchema,
  snakeLeadSchema,
  snakeLeadsQuerySchema,
  snakePageOf,
  snakeSourceCreateSchema,
  snakeSourceDeleteQuerySchema,
  snakeSourceListQuerySchema,
  snakeSourceSchema,
} from '../../shared/schemas/compat.js';
import { answer } from '../chat/chat.routes.js';
import type { ChatService } from '../chat/chat.service.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData, sendPage } from '../http/respond.js';
import type { KnowledgeService } from '../knowledge/knowledge.service.js';
import { uploadedFile, uploadMiddleware } from '../knowledge/upload.js';
import type { LeadsService } from '../leads/leads.service.js';
import { fileUploadBody, snakeChatTurn, snakeKeys } from './mapping.js';

export interface SnakeCaseDeps {
  chat: ChatService;
  chatbots: ChatbotsService;
  knowledge: KnowledgeService;
  leads: LeadsService;
  maxUploadBytes: number;
}

type SnakeSource = z.output<typeof snakeSourceCreateSchema>;

function toSourceInput(body: SnakeSource): CreateSourceInput {
  if (body.type === 'text') return { type: 'text', title: body.title, content: body.content };
  if (body.type === 'file') return { type: 'file', title: body.title };
  const { crawl, chatbot_id: _bot, ...rest } = body;
  return { ...rest, crawl: { mode: crawl?.mode ?? 'page', maxPages: crawl?.max_pages ?? 25 } };
}

/** The snake_case `/api/...` dialect: sources, chat and leads with `chatbot_id`-style fields both ways. */
export function mountSnakeCaseApiRoutes(api: ApiRouter, deps: SnakeCaseDeps): void {
  const { chat, chatbots, leads } = deps;
  const { sources } = deps.knowledge;
  const common = { root: true, tag: 'compatibility' } as const;
  const deleted = envelopeOf(z.object({ id: z.string(), deleted: z.literal(true) }));
  api.route(
    {
      ...common,
      method: 'get',
      path: '/api/sources',
      summary: "List knowledge sources (URLs, files, text): the organization's, or one chatbot's with `chatbot_id`",
      scope: 'knowledge:read',
      query: snakeSourceListQuerySchema,
      response: snakePageOf(snakeSourceSchema),
      errors: ['NotFoundError'],
    },
    async ({ query, principal, res }) => {
      const { page, perPage, chatbot_id: chatbot, status, type } = query;
      const found = await sources.list(principal.organizationId, chatbot ?? null, { status, type }, page, perPage);
      sendPage(res, found.items.map(snakeKeys), { page, per_page: perPage, total: found.total });
    },
  );
  api.route(
    {
      ...common,
      method: 'post',
      path: '/api/sources',
      summary:
        'Add a source to a chatbot (`type` url or text as JSON; a file as multipart/form-data with `file` and `chatbot_id`); answers 202, queued',
      scope: 'knowledge:write',
      body: snakeSourceCreateSchema,
      otherBodies: fileUploadBody('chatbot_id'),
      response: envelopeOf(snakeSourceSchema),
      status: 202,
      errors: ['NotFoundError', 'UnsupportedMediaTypeError'],
      before: [uploadMiddleware(deps.maxUploadBytes)],
    },
    async ({ body, principal, req, res }) => {
      const input = toSourceInput(body);
      const created = await sources.create(principal.organizationId, body.chatbot_id, input, uploadedFile(req.file));
      sendData(res, snakeKeys(created), 202);
    },
  );
  api.route(
    {
      ...common,
      method: 'delete',
      path: '/api/sources',
      summary: 'Remove a source (`?id=`); its passages stop appearing in answers at once',
      scope: 'knowledge:write',
      query: snakeSourceDeleteQuerySchema,
      response: deleted,
      errors: ['NotFoundError'],
    },
    async ({ query, principal, res }) => {
      await sources.remove(principal.organizationId, query.id);
      sendData(res, { id: query.id, deleted: true });
    },
  );
  api.route(
    {
      ...common,
      method: 'post',
      path: '/api/chat',
      summary: 'Send a message to the chatbot `chatbot_id` and get its answer, with snake_case fields',
      scope: 'chat',
      body: snakeChatRequestSchema,
      response: envelopeOf(snakeChatResultSchema),
      errors: ['NotFoundError', 'PayloadTooLargeError', 'QuotaExceededError', 'UnavailableError', 'ConflictError'],
    },
    async ({ body, principal, res }) => {
      const turn = snakeChatTurn(principal.organizationId, body.chatbot_id, body);
      await answer(chat, res, turn, false, { json: snakeKeys });
    },
  );
  api.route(
    {
      ...common,
      method: 'get',
      path: '/api/leads',
      summary: 'List captured leads, newest first, with contact details and their latest conversation',
      scope: 'leads:read',
      query: snakeLeadsQuerySchema,
      response: snakePageOf(snakeLeadSchema),
      errors: ['NotFoundError'],
    },
    async ({ query, principal, res }) => {
      const { page, perPage, chatbot_id: chatbot, from, to, q } = query;
      const chatbotId = chatbot ? (await chatbots.find(principal.organizationId, chatbot))._id : undefined;
      const found = await leads.list(principal.organizationId, { chatbotId, from, to, q }, page, perPage);
      sendPage(res, found.items.map(snakeKeys), { page, per_page: perPage, total: found.total });
    },
  );
}
