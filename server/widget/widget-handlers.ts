import { Types } from 'mongoose';
import type { z } from 'zod';
import { leadSubmitPayloadSchema } from '../../shared/schemas/leads.js';
import { widgetFeedbackSchema, widgetHistorySchema, widgetSendSchema } from '../../shared/schemas/widget-socket.js';
import type { Ack } from '../../shared/socket-events.js';
import type { Models } from '../db/models.js';
import { AppError } from '../http/app-error.js';
import { parse } from '../http/validate.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';
import { runWidgetTurn } from './widget-answers.js';
import type { WidgetSocket } from './widget-handshake.js';
import type { WidgetNamespace } from './widget-hub.js';
import { SendLimiter, type SendLimit } from './send-limiter.js';

export interface WidgetHandlerDeps {
  models: Models;
  services: Pick<Services, 'chat' | 'conversations' | 'leads'>;
  namespace: WidgetNamespace;
  logger: Logger;
  sendLimit: SendLimit;
  /** Aborted when the server stops. */
  signal: AbortSignal;
  /** Receives each running turn, so stopping can wait for it to be stored. */
  track: (turn: Promise<void>) => void;
}

type Reply<T> = Parameters<Ack<T>>[0];

/** Socket payloads are checked by the same zod parsing as HTTP bodies (422 details list each field). */
function parsePayload<S extends z.ZodType>(schema: S, payload: unknown): z.output<S> {
  return parse(schema, payload, 'payload');
}

function errorReply(error: unknown, logger: Logger): Reply<never> {
  if (error instanceof AppError) return { error: { name: error.name, message: error.message, details: error.details } };
  logger.error({ err: error }, 'widget socket handler failed');
  return { error: { name: 'InternalError', message: 'Something went wrong on our side' } };
}

/** Answers an ack with the handler's data or its error; handlers never throw across the socket. */
function answering<P, T>(logger: Logger, handler: (payload: P) => Promise<T>) {
  return (payload: P, ack: Ack<T>) => {
    const reply = typeof ack === 'function' ? ack : () => undefined;
    handler(payload).then(
      (data) => reply({ data }),
      (error: unknown) => reply(errorReply(error, logger)),
    );
  };
}

/** The visitor's own conversation of this bot, or 404 (another visitor's looks the same as none). */
async function visitorConversation(models: Models, socket: WidgetSocket, conversationId: string) {
  const conversation = await models.Conversation.findOne({
    _id: new Types.ObjectId(conversationId),
    chatbotId: new Types.ObjectId(socket.data.chatbotId),
    visitorId: socket.data.visitorId,
  });
  if (!conversation) throw new AppError('NotFoundError', { message: 'No such conversation' });
  return conversation;
}

/** Wires one connected widget socket's events to the services. */
export function registerWidgetHandlers(socket: WidgetSocket, deps: WidgetHandlerDeps): void {
  const { models, services, logger } = deps;
  const limiter = new SendLimiter(deps.sendLimit);

  socket.on('chat:send', (payload, ack) => {
    const reply = typeof ack === 'function' ? ack : () => undefined;
    let input: z.output<typeof widgetSendSchema>;
    try {
      input = parsePayload(widgetSendSchema, payload);
    } catch (error) {
      return reply(errorReply(error, logger));
    }
    const waitMs = limiter.take();
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      return reply({
        error: {
          name: 'RateLimitError',
          message: `You're sending messages a little fast. Please wait ${seconds} second${seconds === 1 ? '' : 's'} and try again.`,
          details: { retryAfter: seconds },
        },
      });
    }
    deps.track(
      runWidgetTurn({
        chat: services.chat,
        namespace: deps.namespace,
        logger,
        data: socket.data,
        input,
        signal: deps.signal,
        onAccepted: (result) => {
          if ('error' in result) return reply(errorReply(result.error, logger));
          reply({ data: result.accepted });
        },
      }),
    );
  });

  socket.on(
    'chat:history',
    answering(logger, async (payload: unknown) => {
      const input = parsePayload(widgetHistorySchema, payload);
      const conversationId = input.conversationId === undefined ? socket.data.conversationId : input.conversationId;
      if (!conversationId) return { conversationId: null, messages: [] };
      const conversation = await visitorConversation(models, socket, conversationId);
      socket.data.conversationId = conversationId;
      const messages = await services.conversations.messagesAfter(conversation._id, input.after ?? null);
      return { conversationId, messages };
    }),
  );

  socket.on(
    'chat:new',
    answering(logger, async () => {
      socket.data.conversationId = null;
      return { conversationId: null };
    }),
  );

  socket.on(
    'message:feedback',
    answering(logger, async (payload: unknown) => {
      const input = parsePayload(widgetFeedbackSchema, payload);
      const message = await models.Message.findOne({
        _id: new Types.ObjectId(input.messageId),
        chatbotId: new Types.ObjectId(socket.data.chatbotId),
        role: 'assistant',
      });
      if (!message) throw new AppError('NotFoundError', { message: 'No such answer' });
      await visitorConversation(models, socket, message.conversationId.toString());
      await services.conversations.feedback(
        socket.data.organizationId,
        input.messageId,
        input.rating,
        undefined,
        message.chatbotId,
      );
      return { messageId: input.messageId };
    }),
  );

  socket.on(
    'lead:submit',
    answering(logger, async (payload: unknown) => {
      const input = parsePayload(leadSubmitPayloadSchema, payload);
      const { organizationId, chatbotId, visitorId, pageUrl } = socket.data;
      return services.leads.submit({
        ...input,
        pageUrl: input.pageUrl ?? pageUrl,
        organizationId,
        chatbotId,
        visitorId,
        userAgent: socket.handshake.headers['user-agent']?.slice(0, 500) ?? null,
      });
    }),
  );
}
