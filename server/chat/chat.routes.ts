import type { Response } from 'express';
import { z } from 'zod';
import {
  botChatRequestSchema,
  chatRequestSchema,
  chatResultSchema,
  type ChatResult,
} from '../../shared/schemas/chat.js';
import { envelopeOf, idOrSlugSchema, pageOf, paginationQuerySchema } from '../../shared/schemas/common.js';
import type { ApiRouter } from '../http/api-router.js';
import { AppError } from '../errors/app-error.js';
import { errorBody } from '../http/error-handler.js';
import { sendData, sendPage } from '../http/respond.js';
import type { ChatService } from './chat.service.js';
import type { ChatEvent, ChatTurn } from './chat.types.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import type { UnansweredService } from './unanswered.service.js';

const HEARTBEAT_MS = 15_000;

type ChatBody = z.output<typeof botChatRequestSchema>;

/** How a door other than the native one words the answer (the compatibility dialects). */
export interface AnswerFormat {
  /** Maps the JSON answer before it is enveloped. */
  json?: (result: ChatResult) => unknown;
  /** Streams only `{"chunk"}` lines and `[DONE]`: for clients that read every data line as a chunk. */
  chunksOnly?: boolean;
}

/** Runs one turn for an HTTP request: JSON envelope, or an SSE stream when `stream: true`. */
export async function answer(
  chat: ChatService,
  res: Response,
  turn: ChatTurn,
  stream: boolean,
  format: AnswerFormat = {},
): Promise<void> {
  const controller = new AbortController();
  // The response closing before it finished means the client went away: stop the model call.
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client disconnected'));
  });
  const events = chat.run(turn, controller.signal);
  // The first event is awaited before any byte is sent, so refusals (404, 413, 429…) keep their status codes.
  const first = await events.next();
  if (first.done) throw new AppError('InternalError');
  if (first.value.type === 'accepted' && first.value.quotaWarning)
    res.setHeader('Wisp-Quota-Warning', first.value.quotaWarning);
  if (first.value.type === 'error') throw first.value.error;
  // A stream's conversation is known before its first chunk, also to clients that never see a `done` event.
  if (first.value.type === 'accepted') res.setHeader('Wisp-Conversation-Id', first.value.conversationId);
  if (stream) return streamEvents(res, events, controller.signal, format.chunksOnly ?? false);

  for await (const event of events) {
    if (event.type === 'done') return sendData(res, format.json ? format.json(event.result) : event.result);
    if (event.type === 'error') throw event.error;
  }
  if (!controller.signal.aborted) throw new AppError('InternalError');
}

async function streamEvents(
  res: Response,
  events: AsyncGenerator<ChatEvent>,
  signal: AbortSignal,
  chunksOnly: boolean,
): Promise<void> {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no');
  res.flushHeaders();
  const send = (data: unknown) => res.write(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  try {
    for await (const event of events) {
      if (event.type === 'chunk') send({ chunk: event.text });
      else if (event.type === 'action' && !chunksOnly)
        send({
          action: {
            phase: event.phase,
            name: event.name,
            status: event.status ?? null,
            durationMs: event.durationMs ?? null,
          },
        });
      else if (event.type === 'done' && !chunksOnly) send({ done: true, ...(event.result satisfies ChatResult) });
      else if (event.type === 'error') send({ error: errorBody(event.error).error });
    }
  } catch (error) {
    const appError = error instanceof AppError ? error : new AppError('InternalError');
    if (!signal.aborted) send({ error: errorBody(appError).error });
  } finally {
    clearInterval(heartbeat);
  }
  if (!signal.aborted) {
    send('[DONE]');
    res.end();
  }
}

function turnFrom(body: ChatBody, organizationId: string, chatbot: string): ChatTurn {
  return {
    organizationId,
    chatbot,
    message: body.message,
    conversationId: body.conversationId ?? null,
    sessionId: body.sessionId ?? null,
    clientMessageId: body.clientMessageId ?? null,
    userToken: body.userToken ?? null,
    metadata: body.metadata,
    channel: 'api',
  };
}

const CHAT_ERRORS = [
  'NotFoundError',
  'PayloadTooLargeError',
  'QuotaExceededError',
  'UnavailableError',
  'ConflictError',
] as const;

export function mountChatRoutes(
  api: ApiRouter,
  chat: ChatService,
  chatbots: ChatbotsService,
  unanswered: UnansweredService,
): void {
  const tag = 'Chat';
  const description =
    'JSON by default; with `stream: true`, Server-Sent Events: `data: {"chunk": "..."}` as tokens arrive, one `data: {"done": true, ...}` with the same fields as the JSON answer, then `data: [DONE]`.';
  api.route(
    {
      method: 'post',
      path: '/chat',
      tag,
      summary: `Send a message to a chatbot and get its answer. ${description}`,
      scope: 'chat',
      body: chatRequestSchema,
      response: envelopeOf(chatResultSchema),
      errors: [...CHAT_ERRORS],
    },
    async ({ body, principal, res }) => {
      const { chatbotId, chatbot, ...rest } = body;
      await answer(chat, res, turnFrom(rest, principal.organizationId, (chatbotId ?? chatbot)!), body.stream);
    },
  );
  api.route(
    {
      method: 'post',
      path: '/chatbots/:id/chat',
      tag,
      summary: `Send a message to this chatbot. ${description}`,
      scope: 'chat',
      params: z.object({ id: idOrSlugSchema }),
      body: botChatRequestSchema,
      response: envelopeOf(chatResultSchema),
      errors: [...CHAT_ERRORS],
    },
    async ({ body, params, principal, res }) => {
      await answer(chat, res, turnFrom(body, principal.organizationId, params.id), body.stream);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/chatbots/:id/unanswered',
      tag: 'Chatbots',
      summary: 'The gap log: questions answered with low confidence or none, most repeated first',
      scope: 'conversations:read',
      params: z.object({ id: idOrSlugSchema }),
      query: paginationQuerySchema,
      response: pageOf(
        z.object({
          question: z.string(),
          count: z.number(),
          lastConfidence: z.number(),
          firstAskedAt: z.string(),
          lastAskedAt: z.string(),
        }),
      ),
      errors: ['NotFoundError'],
    },
    async ({ params, query, principal, res }) => {
      const bot = await chatbots.find(principal.organizationId, params.id);
      const { items, total } = await unanswered.list(bot._id, query.page, query.perPage);
      sendPage(res, items, { page: query.page, perPage: query.perPage, total });
    },
  );
}
