import { Types } from 'mongoose';
import type { z } from 'zod';
import {
  widgetConfirmSchema,
  widgetFeedbackSchema,
  widgetHistorySchema,
  widgetLeadSchema,
  widgetSendSchema,
} from '../../shared/schemas/widget-socket.js';
import type { Ack } from '../../shared/socket-events.js';
import { AppError } from '../errors/app-error.js';
import { parse } from '../errors/parse.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';
import type { WidgetAccess } from './widget-access.js';
import { runWidgetConfirmation, runWidgetTurn } from './widget-answers.js';
import type { WidgetSocket } from './widget-handshake.js';
import type { WidgetNamespace } from './widget-hub.js';
import type { Hit, WidgetLimits } from './widget-limits.js';
import type { TurnAdmission } from './turn-admission.js';

export interface WidgetHandlerDeps {
  services: Pick<Services, 'chat' | 'conversations' | 'leads'>;
  access: WidgetAccess;
  namespace: WidgetNamespace;
  logger: Logger;
  limits: WidgetLimits;
  /** The limit key of the visitor's address (as Express computes `req.ip`). */
  ipKey: string;
  /** True once the server is stopping: new messages are refused, running answers finish. */
  draining: () => boolean;
  /** Aborted when the server stops for good (the drain is over). */
  signal: AbortSignal;
  /** Receives each running turn, so stopping can wait for it to be stored. */
  track: (turn: Promise<void>) => void;
  /** Bounds the turns being stored at once (shared by every socket of the server). */
  admission: TurnAdmission;
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
async function visitorConversation(
  conversations: Services['conversations'],
  socket: WidgetSocket,
  conversationId: string,
) {
  const conversation = await conversations.visitorConversation(
    new Types.ObjectId(socket.data.chatbotId),
    socket.data.visitorId,
    conversationId,
  );
  if (!conversation) throw new AppError('NotFoundError', { message: 'No such conversation' });
  return conversation;
}

/** What a message sent while the server stops gets: the visitor's widget sends it again shortly. */
const RESTARTING = new AppError('UnavailableError', {
  message: 'The chat server is restarting. Please send your message again in a moment.',
  details: { retryAfterSeconds: 2 },
});

/** Wires one connected widget socket's events to the services. */
export function registerWidgetHandlers(socket: WidgetSocket, deps: WidgetHandlerDeps): void {
  const { services, logger, limits, ipKey } = deps;
  const { chatbotId, visitorId } = socket.data;
  // Keyed by visitor and address, not by socket: a reconnect (or a second tab) counts on the same limits.
  const visitorKey = `${chatbotId}:${visitorId}`;
  // Every event counts against the address; the extra hits are the event's own limits.
  const gate = (...extra: Hit[]) => limits.take([['ipEvents', ipKey], ...extra]);

  socket.on('chat:send', (payload, ack) => {
    // Answered exactly once: the acceptance (or refusal) of the turn, whatever follows it.
    let replied = false;
    const reply: typeof ack = (response) => {
      if (replied) return;
      replied = true;
      if (typeof ack === 'function') ack(response);
    };
    const send = async () => {
      if (deps.draining()) throw RESTARTING;
      await gate();
      const input = parsePayload(widgetSendSchema, payload);
      const reserved = await limits.take([
        ['visitorBurst', visitorKey],
        ['visitorMessages', visitorKey],
        ['ipMessages', ipKey],
        ['botMessages', chatbotId],
      ]);
      const leave = await deps.admission.enter();
      try {
        // Checked again: the stop may have begun while the limits were counted or the turn waited its place.
        if (deps.draining()) {
          await reserved.release();
          throw RESTARTING;
        }
        await runWidgetTurn({
          chat: services.chat,
          namespace: deps.namespace,
          logger,
          data: socket.data,
          input,
          signal: deps.signal,
          onAccepted: (result) => {
            // Stored (or refused): the answer streams without holding a place.
            leave();
            if ('error' in result) {
              void reserved.release();
              return reply(errorReply(result.error, logger));
            }
            // A repeated clientMessageId is answered from storage; it costs the visitor nothing.
            if (result.accepted.duplicate) void reserved.release();
            reply({ data: result.accepted });
          },
        });
        // A turn that ended without a word still answers its send: the widget would otherwise wait for it.
        if (!replied) {
          if (!deps.signal.aborted) logger.error({ chatbotId }, 'a widget turn ended without accepting or refusing');
          throw deps.signal.aborted ? RESTARTING : new AppError('InternalError');
        }
      } finally {
        leave();
      }
    };
    deps.track(send().catch((error: unknown) => reply(errorReply(error, logger))));
  });

  socket.on('chat:confirm', (payload, ack) => {
    const reply = typeof ack === 'function' ? ack : () => undefined;
    const confirm = async () => {
      if (deps.draining()) throw RESTARTING;
      await gate();
      const input = parsePayload(widgetConfirmSchema, payload);
      await runWidgetConfirmation({
        chat: services.chat,
        namespace: deps.namespace,
        logger,
        data: socket.data,
        input,
        signal: deps.signal,
        onConfirmed: (result) => reply('error' in result ? errorReply(result.error, logger) : { data: result }),
      });
    };
    deps.track(confirm().catch((error: unknown) => reply(errorReply(error, logger))));
  });

  socket.on(
    'chat:history',
    answering(logger, async (payload: unknown) => {
      await gate();
      const input = parsePayload(widgetHistorySchema, payload);
      const conversationId = input.conversationId === undefined ? socket.data.conversationId : input.conversationId;
      if (!conversationId) return { conversationId: null, messages: [] };
      const conversation = await visitorConversation(services.conversations, socket, conversationId);
      socket.data.conversationId = conversationId;
      const messages = await services.conversations.messagesAfter(conversation._id, input.after ?? null);
      return { conversationId, messages };
    }),
  );

  socket.on(
    'chat:new',
    answering(logger, async () => {
      await gate();
      socket.data.conversationId = null;
      return { conversationId: null };
    }),
  );

  socket.on(
    'message:feedback',
    answering(logger, async (payload: unknown) => {
      await gate();
      const input = parsePayload(widgetFeedbackSchema, payload);
      const message = await services.conversations.answers.answerOfBot(
        new Types.ObjectId(socket.data.chatbotId),
        input.messageId,
      );
      if (!message) throw new AppError('NotFoundError', { message: 'No such answer' });
      await visitorConversation(services.conversations, socket, message.conversationId.toString());
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
      // The same per-address lead limit as the HTTP lead route.
      await gate(['leads', ipKey]);
      const input = parsePayload(widgetLeadSchema, payload);
      const { chatbotId, visitorId, pageUrl } = socket.data;
      // Asked again, as the HTTP lead route does: the bot may have been disabled or its origins changed.
      const bot = await deps.access.bot(chatbotId, socket.handshake.headers.origin);
      return services.leads.submitFor(bot, {
        ...input,
        pageUrl: input.pageUrl ?? pageUrl,
        visitorId,
        userAgent: socket.handshake.headers['user-agent']?.slice(0, 500) ?? null,
      });
    }),
  );
}
