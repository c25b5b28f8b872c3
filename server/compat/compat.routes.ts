import type { Config } from '../config.js';
import type { ApiRouter } from '../http/api-router.js';
import type { Services } from '../services.js';
import { mountBotsApiRoutes } from './bots-api.routes.js';
import { mountKnowledgeApiRoutes } from './knowledge-api.routes.js';
import { mountQueryApiRoutes } from './query-api.routes.js';
import { mountSlugChatRoutes } from './slug-chat.routes.js';
import { mountSnakeCaseApiRoutes } from './snake-case-api.routes.js';
import { mountSnakeCaseWidgetRoutes } from './snake-case-widget.routes.js';

/**
 * The paths of the compatibility dialects that lie outside `/api/v1`; the app gives them the
 * same middleware (CORS for API callers, JSON body, operator-key check) as `/api/v1`.
 */
export const COMPAT_ROOT_PATHS = [
  '/v1/api/chat',
  '/api/chat',
  '/api/sources',
  '/api/leads',
  '/api/widget-config',
  '/api/widget-settings',
  '/v1/query',
];

/** Mounts every compatibility dialect: thin adapters that map other chatbot APIs' requests onto Wisp's services. */
export function mountCompatRoutes(api: ApiRouter, services: Services, config: Config): void {
  mountKnowledgeApiRoutes(api, services.knowledge, services.chatbots, config.KNOWLEDGE_MAX_UPLOAD_BYTES);
  mountBotsApiRoutes(api, services);
  mountSlugChatRoutes(api, services.chat);
  mountQueryApiRoutes(api, services.chat, services.chatbots);
  mountSnakeCaseApiRoutes(api, {
    chat: services.chat,
    chatbots: services.chatbots,
    knowledge: services.knowledge,
    leads: services.leads,
    maxUploadBytes: config.KNOWLEDGE_MAX_UPLOAD_BYTES,
  });
  mountSnakeCaseWidgetRoutes(api, services.chatbots, services.widgetSettings);
}
