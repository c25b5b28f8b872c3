import { z } from 'zod';
import {
  chatbotSchema,
  createChatbotSchema,
  createdChatbotSchema,
  updateChatbotSchema,
} from '../../shared/schemas/chatbots.js';
import { envelopeOf, idOrSlugSchema, pageOf, paginationQuerySchema } from '../../shared/schemas/common.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData, sendPage, sendSharedData } from '../http/respond.js';
import type { ChatbotsService } from './chatbots.service.js';

const idParams = z.object({ id: idOrSlugSchema });

export function mountChatbotRoutes(api: ApiRouter, chatbots: ChatbotsService): void {
  mountChatbotCollection(api, chatbots, { base: '/chatbots', noun: 'chatbot', tag: 'Chatbots' });
  const tag = 'Chatbots';
  api.route(
    {
      method: 'post',
      path: '/chatbots/:id/identity-secret',
      tag,
      summary: 'Rotate the identity secret used to sign end-user tokens (shown once)',
      scope: 'admin',
      params: idParams,
      response: envelopeOf(z.object({ id: z.string(), identitySecret: z.string() })),
      status: 201,
      errors: ['NotFoundError'],
    },
    async ({ params, principal, res }) => {
      sendData(res, await chatbots.rotateIdentitySecret(principal.organizationId, params.id), 201);
    },
  );
}

/**
 * List, create, read, update and delete of chatbots under `base`: `/chatbots`, and `/bots` for
 * the compatibility dialect that calls them bots (same service, same scopes, same answers).
 */
export function mountChatbotCollection(
  api: ApiRouter,
  chatbots: ChatbotsService,
  { base, noun, tag }: { base: string; noun: string; tag: string },
): void {
  api.route(
    {
      method: 'get',
      path: base,
      tag,
      summary: `List ${noun}s`,
      scope: 'knowledge:read',
      query: paginationQuerySchema,
      response: pageOf(chatbotSchema),
    },
    async ({ query, principal, res }) => {
      const { items, total } = await chatbots.list(principal.organizationId, query.page, query.perPage);
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
  api.route(
    {
      method: 'post',
      path: base,
      tag,
      summary: `Create a ${noun} (its identity secret is shown once)`,
      scope: 'admin',
      body: createChatbotSchema,
      response: envelopeOf(createdChatbotSchema),
      status: 201,
      errors: ['ConflictError'],
    },
    async ({ body, principal, res }) => {
      sendData(res, await chatbots.create(principal.organizationId, body), 201);
    },
  );
  api.route(
    {
      method: 'get',
      path: `${base}/:id`,
      tag,
      summary: `Get a ${noun} by id or slug`,
      scope: 'knowledge:read',
      params: idParams,
      response: envelopeOf(chatbotSchema),
      errors: ['NotFoundError'],
    },
    ({ params, principal, res }) => {
      // The DTO is the cache's shared copy, so its envelope is serialized once per cached copy; a cached bot is
      // answered without waiting on a promise.
      const cached = chatbots.cachedDto(principal.organizationId, params.id);
      if (cached) return sendSharedData(res, cached);
      return chatbots.findDto(principal.organizationId, params.id).then((dto) => sendSharedData(res, dto));
    },
  );
  api.route(
    {
      method: 'patch',
      path: `${base}/:id`,
      tag,
      summary: `Update a ${noun}`,
      scope: 'admin',
      params: idParams,
      body: updateChatbotSchema,
      response: envelopeOf(chatbotSchema),
      errors: ['NotFoundError', 'ConflictError'],
    },
    async ({ params, body, principal, res }) => {
      sendData(res, await chatbots.update(principal.organizationId, params.id, body));
    },
  );
  api.route(
    {
      method: 'delete',
      path: `${base}/:id`,
      tag,
      summary: `Delete a ${noun} with its sources, chunks, conversations and leads`,
      scope: 'admin',
      params: idParams,
      response: envelopeOf(z.object({ id: z.string(), deleted: z.literal(true) })),
      errors: ['NotFoundError'],
    },
    async ({ params, principal, res }) => {
      const id = await chatbots.remove(principal.organizationId, params.id);
      sendData(res, { id, deleted: true });
    },
  );
}
