import { feedbackSchema, messageSchema } from '../../shared/schemas/chat.js';
import { envelopeOf, pageOf, paginationQuerySchema } from '../../shared/schemas/common.js';
import {
  conversationDetailSchema,
  conversationSummarySchema,
  listConversationsQuerySchema,
} from '../../shared/schemas/conversations.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData, sendPage } from '../http/respond.js';
import type { ConversationsService } from './conversations.service.js';
import { deleteByIdRoute, getByIdRoute, objectIdParams } from '../http/resource-routes.js';

export function mountConversationRoutes(
  api: ApiRouter,
  conversations: ConversationsService,
  chatbots: ChatbotsService,
): void {
  const tag = 'Conversations';
  api.route(
    {
      method: 'get',
      path: '/conversations',
      tag,
      summary: 'List conversations (filter by chatbot, date range, text)',
      scope: 'conversations:read',
      query: listConversationsQuerySchema,
      response: pageOf(conversationSummarySchema),
      errors: ['NotFoundError'],
    },
    async ({ query, principal, res }) => {
      const chatbotId = query.chatbotId
        ? (await chatbots.find(principal.organizationId, query.chatbotId))._id
        : undefined;
      const { items, total } = await conversations.list(
        principal.organizationId,
        { chatbotId, from: query.from, to: query.to, q: query.q },
        query.page,
        query.perPage,
      );
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
  getByIdRoute(
    api,
    {
      path: '/conversations/:id',
      tag,
      summary: 'Get a conversation with its messages',
      scope: 'conversations:read',
      item: conversationDetailSchema,
    },
    (organizationId, id) => conversations.detail(organizationId, id),
  );
  api.route(
    {
      method: 'get',
      path: '/conversations/:id/messages',
      tag,
      summary: "A page of a conversation's messages, oldest first",
      scope: 'conversations:read',
      params: objectIdParams,
      query: paginationQuerySchema,
      response: pageOf(messageSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, query, principal, res }) => {
      const { items, total } = await conversations.messages(
        principal.organizationId,
        params.id,
        query.page,
        query.perPage,
      );
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
  deleteByIdRoute(
    api,
    {
      path: '/conversations/:id',
      tag,
      summary: 'Delete a conversation and its messages',
      scope: 'conversations:write',
    },
    (organizationId, id) => conversations.remove(organizationId, id),
  );
  api.route(
    {
      method: 'post',
      path: '/messages/:id/feedback',
      tag,
      summary: "Record the end user's thumbs up or down on an answer",
      scope: 'chat',
      params: objectIdParams,
      body: feedbackSchema,
      response: envelopeOf(messageSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, body, principal, res }) => {
      sendData(res, await conversations.feedback(principal.organizationId, params.id, body.rating, body.comment));
    },
  );
}
