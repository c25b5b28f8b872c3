import { z } from 'zod';
import { envelopeOf, idOrSlugSchema, pageOf, paginationQuerySchema } from '../../shared/schemas/common.js';
import { botConversationsQuerySchema } from '../../shared/schemas/compat.js';
import { conversationSummarySchema } from '../../shared/schemas/conversations.js';
import { createIntegrationSchema, integrationSchema } from '../../shared/schemas/integrations.js';
import { mountChatbotCollection } from '../chatbots/chatbots.routes.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import type { ConversationsService } from '../conversations/conversations.service.js';
import type { ApiRouter } from '../http/api-router.js';
import { sendData, sendPage } from '../http/respond.js';
import type { IntegrationsService } from '../integrations/integrations.service.js';

export interface BotsApiDeps {
  chatbots: ChatbotsService;
  integrations: IntegrationsService;
  conversations: ConversationsService;
}

const botParams = z.object({ bot_id: idOrSlugSchema });

/**
 * The `/bots` dialect: bots are Wisp's chatbots under another name. A bot's integrations are the
 * model connection it uses (model connections belong to the organization; a bot uses at most one).
 * `/integrations/{id}` and `/conversations/{id}[/messages]` are Wisp's own routes already.
 */
export function mountBotsApiRoutes(api: ApiRouter, deps: BotsApiDeps): void {
  const { chatbots, integrations, conversations } = deps;
  const tag = 'compatibility';
  mountChatbotCollection(api, chatbots, { base: '/bots', noun: 'bot', tag });
  api.route(
    {
      method: 'get',
      path: '/bots/:bot_id/integrations',
      tag,
      summary: 'The model connection this bot uses (none: the server default)',
      scope: 'admin',
      params: botParams,
      query: paginationQuerySchema,
      response: pageOf(integrationSchema),
      errors: ['NotFoundError'],
    },
    async ({ params, query, principal, res }) => {
      const bot = await chatbots.find(principal.organizationId, params.bot_id);
      const id = bot.modelSettings?.integrationId?.toString();
      const items = id ? [await integrations.get(principal.organizationId, id)] : [];
      sendPage(res, items.slice((query.page - 1) * query.perPage, query.page * query.perPage), {
        page: query.page,
        perPage: query.perPage,
        total: items.length,
      });
    },
  );
  api.route(
    {
      method: 'post',
      path: '/bots/:bot_id/integrations',
      tag,
      summary:
        'Add a model connection and make this bot use it (`modelSettings.integrationId`); other bots may use it too',
      scope: 'admin',
      params: botParams,
      body: createIntegrationSchema,
      response: envelopeOf(integrationSchema),
      status: 201,
      errors: ['NotFoundError'],
    },
    async ({ params, body, principal, res }) => {
      const { organizationId } = principal;
      // The bot is looked up first, so a wrong bot id creates nothing.
      const bot = await chatbots.find(organizationId, params.bot_id);
      const integration = await integrations.create(organizationId, body);
      await chatbots.update(organizationId, bot._id.toString(), { modelSettings: { integrationId: integration.id } });
      sendData(res, integration, 201);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/bots/:bot_id/conversations',
      tag,
      summary: "List this bot's conversations (filter by date range, text)",
      scope: 'conversations:read',
      params: botParams,
      query: botConversationsQuerySchema,
      response: pageOf(conversationSummarySchema),
      errors: ['NotFoundError'],
    },
    async ({ params, query, principal, res }) => {
      const bot = await chatbots.find(principal.organizationId, params.bot_id);
      const { page, perPage, from, to, q } = query;
      const found = await conversations.list(
        principal.organizationId,
        { chatbotId: bot._id, from, to, q },
        page,
        perPage,
      );
      sendPage(res, found.items, { page, perPage, total: found.total });
    },
  );
}
