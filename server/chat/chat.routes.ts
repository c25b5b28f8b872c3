import type { Response } from 'express';
import { z } from 'zod';
import {
  botChatRequestSchema,
  chatRequestSchema,
  chatResultSchema,
  type ChatResult,
} from '../../shared/schemas/chat.js';
import { envelopeOf, idOrSlugSchema } from '../../shared/schemas/common.js';
import type { ApiRouter } from '../http/api-router.js';
import { AppError } from '../errors/app-error.js';
import { errorBody } from '../http/error-handler.js';
import { sendData } from '../http/respond.js';
import type { ChatService } from './chat.service.js';
import type { ChatEvent, ChatTurn } from './chat.types.js';

const HEARTBEAT_MS = 15_000;

type ChatBody = z.output<typeof botChatRequestSchema>;

/** How a stream words the flow's events: the data lines for each event (the first, `accepted`, included) and for a failure. */
export interface StreamFormat {
  event(event: Exclude<ChatEvent, { type: 'error' }>): unknown[];
  error(error: AppError): unknown;
}

/** How a door other than the native one words the answer (the compatibility dialects). */
export interface AnswerFormat {
  /** Maps the JSON answer before it is enveloped. */
  json?: (result: ChatResult) => unknown;
  /** Streams only `{"chunk"}` lines and `[DONE]`: for clients that read every data line as a chunk. */
  chunksOnly?: boolean;
  /** A stream in another dialect's own event format (still ending in `data: [DONE]`). */
  stream?: StreamFormat;
  /** Sends the mapped JSON answer as the whole body, for dialects without the envelope. */
  raw?: boolean;
}

/** Wisp's own stream: `{"chunk"}` lines, one `{"done": true, ...}` with the JSON answer's fields (unless `chunksOnly`). */
export function nativeStream(chunksOnly: boolean): StreamFormat {
  return {
    event: (event) => {
      if (event.type === 'chunk') return [{ chunk: event.text }];
      if (event.type === 'action' && !chunksOnly)
        return [
          {
            action: {
              phase: event.phase,
              name: event.name,
              status: event.status ?? null,
              durationMs: event.durationMs ?? null,
            },
          },
        ];
      if (event.type === 'done' && !chunksOnly) return [{ done: true, ...(event.result satisfies ChatResult) }];
      return [];
    },
    error: (error) => ({ error: errorBody(error).error }),
  };
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
  // A refusal before the turn was accepted answers with its own status and error envelope.
  if (first.value.type === 'error') throw first.value.error;
  if (first.value.type === 'accepted' && first.value.quotaWarning)
    res.setHeader('Wisp-Quota-Warning', first.value.quotaWarning);
  // A stream's conversation is known before its first chunk, also to clients that never see a `done` event.
  if (first.value.type === 'accepted') res.setHeader('Wisp-Conversation-Id', first.value.conversationId);
  if (stream) {
    const wording = format.stream ?? nativeStream(format.chunksOnly ?? false);
    return streamEvents(res, first.value, events, controller.signal, wording);
  }

  for await (const event of events) {
    if (event.type === 'error') throw event.error;
    if (event.type !== 'done') continue;
    const body = format.json ? format.json(event.result) : event.result;
    if (format.raw) res.json(body);
    else sendData(res, body);
    return;
  }
  if (!controller.signal.aborted) throw new AppError('InternalError');
}

export async function streamEvents(
  res: Response,
  first: Exclude<ChatEvent, { type: 'error' }>,
  events: AsyncGenerator<ChatEvent>,
  signal: AbortSignal,
  format: StreamFormat,
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
    format.event(first).forEach(send);
    for await (const event of events) {
      if (event.type === 'error') send(format.error(event.error));
      else format.event(event).forEach(send);
    }
  } catch (error) {
    const appError = error instanceof AppError ? error : new AppError('InternalError');
    if (!signal.aborted) send(format.error(appError));
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

export function mountChatRoutes(api: ApiRouter, chat: ChatService): void {
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
}
