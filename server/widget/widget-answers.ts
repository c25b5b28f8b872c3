import type { WidgetSocketData } from '../../shared/socket-events.js';
import type { ChatService } from '../chat/chat.service.js';
import type { ChatTurn } from '../chat/chat.types.js';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../logger.js';
import { visitorRoom, type WidgetNamespace } from './widget-hub.js';

export interface AcceptedTurn {
  conversationId: string;
  messageId: string;
  assistantMessageId: string | null;
  duplicate: boolean;
}

export interface RunWidgetTurnOptions {
  chat: ChatService;
  namespace: WidgetNamespace;
  logger: Logger;
  data: WidgetSocketData;
  input: { text: string; clientMessageId: string; conversationId?: string | null };
  /** Aborted when the server stops; a visitor going offline does not stop the answer. */
  signal: AbortSignal;
  /** Called once the turn is stored (or refused, with the error), before the answer streams. */
  onAccepted: (result: { accepted: AcceptedTurn } | { error: AppError }) => void;
}

/**
 * Runs one widget turn and streams its answer to the visitor's room, not to the socket: every
 * tab of the visitor sees it, and a socket that reconnects (or is recovered) still receives the
 * rest. The answer keeps going when the visitor drops, so it is stored complete either way.
 */
export async function runWidgetTurn(options: RunWidgetTurnOptions): Promise<void> {
  const { chat, namespace, logger, data, input, signal, onAccepted } = options;
  const room = namespace.to(visitorRoom(data.chatbotId, data.visitorId));
  // undefined continues the socket's current conversation; null starts a new one.
  const conversationId = input.conversationId === undefined ? data.conversationId : input.conversationId;
  const turn: ChatTurn = {
    organizationId: data.organizationId,
    chatbot: data.chatbotId,
    message: input.text,
    conversationId,
    visitorId: data.visitorId,
    clientMessageId: input.clientMessageId,
    user: data.user,
    channel: 'widget',
    pageUrl: data.pageUrl,
  };
  let accepted: AcceptedTurn | null = null;
  // Chunks that arrive together (one read of the model's stream) leave as one event. The first read's
  // chunks leave once that read's promise callbacks have run (`process.nextTick` runs after the microtask
  // queue is drained, before any other I/O), so the first chunk waits for no other work; later ones are
  // gathered until the event loop turns. Numbered here, so `seq` stays 0, 1, 2…
  let seq = 0;
  let pending = '';
  let flushing: NodeJS.Immediate | null = null;
  let flushingSoon = false;
  const flush = () => {
    if (flushing) clearImmediate(flushing);
    flushing = null;
    flushingSoon = false;
    if (!accepted || pending === '') return;
    room.emit('chat:chunk', {
      conversationId: accepted.conversationId,
      messageId: accepted.assistantMessageId ?? '',
      seq,
      text: pending,
    });
    seq += 1;
    pending = '';
  };
  const fail = (appError: AppError) => {
    flush();
    if (!accepted) return onAccepted({ error: appError });
    room.emit('chat:error', {
      conversationId: accepted.conversationId,
      messageId: accepted.assistantMessageId,
      error: { name: appError.name, message: appError.message },
    });
  };
  try {
    for await (const event of chat.run(turn, signal)) {
      if (event.type === 'accepted') {
        accepted = {
          conversationId: event.conversationId,
          messageId: event.userMessageId,
          assistantMessageId: event.assistantMessageId,
          duplicate: event.duplicate,
        };
        data.conversationId = event.conversationId;
        onAccepted({ accepted });
      } else if (event.type === 'chunk' && accepted) {
        pending += event.text;
        if (seq > 0) flushing ??= setImmediate(flush);
        else if (!flushingSoon) {
          flushingSoon = true;
          process.nextTick(flush);
        }
      } else if (event.type === 'done' && accepted) {
        flush();
        room.emit('chat:done', { conversationId: accepted.conversationId, message: event.message });
      } else if (event.type === 'error' && !signal.aborted) {
        fail(event.error);
      }
    }
  } catch (error) {
    // The chat flow reports its failures as `error` events; this is the socket itself failing.
    logger.error({ err: error }, 'widget turn failed');
    if (!signal.aborted) fail(new AppError('InternalError'));
  } finally {
    // Whatever was streamed still reaches the visitor, also when the turn ended without `done`.
    flush();
  }
}

export interface RunWidgetConfirmationOptions extends Omit<RunWidgetTurnOptions, 'input' | 'onAccepted'> {
  input: { messageId: string; approve: boolean };
  /** Called once the action ran or was declined (or with the refusal), before the follow-up answer streams. */
  onConfirmed: (
    result: { messageId: string; status: 'succeeded' | 'failed' | 'refused' | 'declined' } | { error: AppError },
  ) => void;
}

/**
 * Answers the action a visitor's answer waits for and streams the follow-up answer to the visitor's room, on
 * the same message: only an answer of the visitor's own conversation can be answered, and only once.
 */
export async function runWidgetConfirmation(options: RunWidgetConfirmationOptions): Promise<void> {
  const { chat, namespace, logger, data, input, signal, onConfirmed } = options;
  const room = namespace.to(visitorRoom(data.chatbotId, data.visitorId));
  let confirmed = false;
  let conversationId = '';
  const paused = {
    organizationId: data.organizationId,
    chatbotId: data.chatbotId,
    visitorId: data.visitorId,
    messageId: input.messageId,
  };
  try {
    for await (const event of chat.confirm(paused, input.approve, signal)) {
      if (event.type === 'confirmed') {
        confirmed = true;
        conversationId = event.outcome.conversationId;
        onConfirmed({ messageId: event.outcome.messageId, status: event.outcome.status });
      } else if (event.type === 'chunk') {
        room.emit('chat:chunk', {
          conversationId,
          messageId: input.messageId,
          seq: event.seq,
          text: event.text,
        });
      } else if (event.type === 'done') {
        room.emit('chat:done', { conversationId: event.message.conversationId, message: event.message });
      } else if (event.type === 'error' && !signal.aborted) {
        if (!confirmed) onConfirmed({ error: event.error });
        else
          room.emit('chat:error', {
            conversationId: event.conversationId ?? '',
            messageId: input.messageId,
            error: { name: event.error.name, message: event.error.message },
          });
      }
    }
  } catch (error) {
    logger.error({ err: error }, 'widget confirmation failed');
    if (!confirmed && !signal.aborted) onConfirmed({ error: new AppError('InternalError') });
  }
}
