import { z } from 'zod';
import type { ChatResult } from '../../shared/schemas/chat.js';
import { envelopeOf, idOrSlugSchema } from '../../shared/schemas/common.js';
import { slugChatRequestSchema, slugChatResultSchema } from '../../shared/schemas/compat.js';
import { answer } from '../chat/chat.routes.js';
import type { ChatService } from '../chat/chat.service.js';
import type { ApiRouter } from '../http/api-router.js';

const withMetadata = (result: ChatResult) => ({
  ...result,
  metadata: { model: result.model, tokens: result.tokensUsed.total },
});

/**
 * The `/chat/{slug}` dialect: the bot in the path, `conversationId: null` for a new conversation,
 * `metadata.model` / `metadata.tokens` in the answer, and streams of `{"chunk"}` lines ending in `[DONE]`.
 */
export function mountSlugChatRoutes(api: ApiRouter, chat: ChatService): void {
  for (const root of [false, true]) {
    api.route(
      {
        method: 'post',
        // The source document's examples call `/v1/api/chat/{slug}`; its reference says `/chat/{slug}`.
        path: root ? '/v1/api/chat/:slug' : '/chat/:slug',
        root,
        tag: 'compatibility',
        summary:
          'Send a message to the chatbot with this slug (or id). JSON: the chat answer plus `metadata: { model, tokens }`. With `stream: true`, Server-Sent Events: `data: {"chunk": "..."}` lines, then `data: [DONE]`; the conversation id is in the `Wisp-Conversation-Id` header',
        scope: 'chat',
        params: z.object({ slug: idOrSlugSchema }),
        body: slugChatRequestSchema,
        response: envelopeOf(slugChatResultSchema),
        errors: ['NotFoundError', 'PayloadTooLargeError', 'QuotaExceededError', 'UnavailableError', 'ConflictError'],
      },
      async ({ body, params, principal, res }) => {
        const turn = {
          organizationId: principal.organizationId,
          chatbot: params.slug,
          message: body.message,
          conversationId: body.conversationId ?? null,
          sessionId: body.sessionId ?? null,
          clientMessageId: body.clientMessageId ?? null,
          userToken: body.userToken ?? null,
          metadata: body.metadata,
          channel: 'api' as const,
        };
        await answer(chat, res, turn, body.stream, { json: withMetadata, chunksOnly: true });
      },
    );
  }
}
