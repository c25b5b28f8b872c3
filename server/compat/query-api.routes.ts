import type { ChatResult } from '../../shared/schemas/chat.js';
import { envelopeOf } from '../../shared/schemas/common.js';
import { queryAnswerSchema, queryRequestSchema } from '../../shared/schemas/compat.js';
import { answer } from '../chat/chat.routes.js';
import type { ChatService } from '../chat/chat.service.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import type { ApiRouter } from '../http/api-router.js';
import { chatbotFor, snakeChatTurn } from './mapping.js';

const toQueryAnswer = (result: ChatResult) => ({
  answer: result.response,
  sources: result.sources.map((source) => ({
    document_id: source.sourceId,
    title: source.title,
    url: source.url,
    excerpt: source.excerpt,
    score: source.score,
  })),
  confidence: result.confidence,
  conversation_id: result.conversationId,
  message_id: result.messageId,
  model: result.model,
  tokens_used: result.tokensUsed,
  ...(result.requiresAction ? { requires_action: result.requiresAction } : {}),
});

/** The `/v1/query` dialect: a question (and the end user's JWT) in, the answer with its passages and confidence out. */
export function mountQueryApiRoutes(api: ApiRouter, chat: ChatService, chatbots: ChatbotsService): void {
  api.route(
    {
      method: 'post',
      path: '/v1/query',
      root: true,
      tag: 'compatibility',
      summary:
        "Ask the bot: answers `answer`, `sources[]` (document id and passage excerpt), `confidence` and `conversation_id`. `user_token` is the end user's JWT signed with the bot's identity secret; `chatbot_id` may be left out while the organization has one bot",
      scope: 'chat',
      body: queryRequestSchema,
      response: envelopeOf(queryAnswerSchema),
      errors: ['NotFoundError', 'PayloadTooLargeError', 'QuotaExceededError', 'UnavailableError', 'ConflictError'],
    },
    async ({ body, principal, res }) => {
      const turn = snakeChatTurn(
        principal.organizationId,
        await chatbotFor(chatbots, principal.organizationId, body.chatbot_id, 'chatbot_id'),
        body,
      );
      await answer(chat, res, turn, false, { json: toQueryAnswer });
    },
  );
}
