import { z } from 'zod';
import type { ChatbotDto } from '../../shared/schemas/chatbots.js';
import {
  openAiChatCompletionChunkSchema,
  openAiChatCompletionSchema,
  openAiChatRequestSchema,
  openAiErrorSchema,
  openAiModelListSchema,
  openAiModelSchema,
} from '../../shared/schemas/openai.js';
import { answer } from '../chat/chat.routes.js';
import type { ChatService } from '../chat/chat.service.js';
import { toChatbotDto, type ChatbotsService } from '../chatbots/chatbots.service.js';
import { AppError } from '../errors/app-error.js';
import type { ApiRouter } from '../http/api-router.js';
import { chunkStream, completionOf, turnFromRequest } from './openai-chat.js';
import { openAiError } from './openai-errors.js';

/** The paths of the OpenAI-compatible door; the app gives them the API's middleware and OpenAI's error body. */
export const OPENAI_ROOT_PATHS = ['/v1/chat/completions', '/v1/models'];

const TAG = 'OpenAI-compatible';
/** Bots listed per database page while `GET /v1/models` gathers them all. */
const MODELS_PAGE = 100;

const modelOf = (bot: ChatbotDto) => ({
  id: bot.slug,
  object: 'model' as const,
  created: Math.floor(Date.parse(bot.createdAt) / 1000),
  owned_by: 'wisp',
  wisp: { chatbot_id: bot.id, name: bot.name, status: bot.status },
});

/** The bot a `model` names, or OpenAI's `model_not_found`. */
async function botNamed(chatbots: ChatbotsService, organizationId: string, model: string) {
  try {
    return await chatbots.find(organizationId, model);
  } catch (error) {
    if (!(error instanceof AppError) || error.name !== 'NotFoundError') throw error;
    throw openAiError(
      'NotFoundError',
      `The model "${model}" does not exist: use a chatbot's slug or id (GET /v1/models lists them)`,
      { param: 'model', code: 'model_not_found' },
    );
  }
}

/**
 * The OpenAI-compatible door onto the one chat flow: `POST /v1/chat/completions` (JSON or OpenAI's
 * streamed chunks) and `GET /v1/models` (the organization's bots), with an API key as the Bearer token.
 */
export function mountOpenAiRoutes(api: ApiRouter, chat: ChatService, chatbots: ChatbotsService): void {
  // The chunks of a stream are no route's response, so the document lists their schema as a component.
  const { $schema: _dialect, ...chunk } = z.toJSONSchema(openAiChatCompletionChunkSchema);
  api.registry.registerComponent('schemas', 'ChatCompletionChunk', chunk as never);
  api.route(
    {
      method: 'post',
      path: '/v1/chat/completions',
      root: true,
      tag: TAG,
      summary:
        "OpenAI's chat completions, answered by a chatbot: `model` is the bot's slug or id, the last `user` message is the question and earlier user/assistant messages the history (`user` or `conversation_id` continues a stored conversation). With `stream: true`, Server-Sent Events of `ChatCompletionChunk` objects ending in `data: [DONE]`. Citations and confidence are in `wisp`. Sampling fields (temperature, max_tokens, tools, ...) are accepted and ignored: the bot's model settings decide; `n` must be 1. Errors are OpenAI's error body",
      scope: 'chat',
      body: openAiChatRequestSchema,
      response: openAiChatCompletionSchema,
      errorBody: openAiErrorSchema,
      errors: ['NotFoundError', 'PayloadTooLargeError', 'QuotaExceededError', 'UnavailableError', 'ConflictError'],
    },
    async ({ body, principal, res }) => {
      const bot = await botNamed(chatbots, principal.organizationId, body.model);
      const turn = turnFromRequest(body, principal.organizationId, bot._id.toString());
      await answer(chat, res, turn, body.stream === true, {
        json: (result) => completionOf(result, body.model),
        stream: chunkStream(body.model, body.stream_options?.include_usage === true),
        raw: true,
      });
    },
  );
  api.route(
    {
      method: 'get',
      path: '/v1/models',
      root: true,
      tag: TAG,
      summary: "The organization's chatbots as OpenAI models: `id` is the slug to send as `model`",
      scope: 'chat',
      response: openAiModelListSchema,
      errorBody: openAiErrorSchema,
    },
    async ({ principal, res }) => {
      const models = [];
      for (let page = 1; ; page += 1) {
        const { items, total } = await chatbots.list(principal.organizationId, page, MODELS_PAGE);
        models.push(...items.map(modelOf));
        if (page * MODELS_PAGE >= total || items.length === 0) break;
      }
      res.json({ object: 'list', data: models });
    },
  );
  api.route(
    {
      method: 'get',
      path: '/v1/models/:model',
      root: true,
      tag: TAG,
      summary: 'One chatbot as an OpenAI model, by slug or id',
      scope: 'chat',
      params: z.object({ model: z.string().min(1).max(200) }),
      response: openAiModelSchema,
      errorBody: openAiErrorSchema,
      errors: ['NotFoundError'],
    },
    async ({ params, principal, res }) => {
      res.json(modelOf(toChatbotDto(await botNamed(chatbots, principal.organizationId, params.model))));
    },
  );
}
