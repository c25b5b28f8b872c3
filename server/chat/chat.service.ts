import { randomUUID } from 'node:crypto';
import { MAX_MESSAGE_CHARS } from '../../shared/schemas/chat.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import type { ConversationsService } from '../conversations/conversations.service.js';
import { AppError } from '../errors/app-error.js';
import { toAppError } from '../http/error-handler.js';
import type { EventPublisher } from '../events/domain-events.js';
import { linkSignal } from '../lib/linked-signal.js';
import { isoTime } from '../lib/iso-time.js';
import type { Logger } from '../logger.js';
import type { ModelResolver } from '../llm/model-resolver.js';
import type { QuotaReservation, UsageService } from '../usage/usage.service.js';
import type { ChatEvent, ChatTurn, EndUser } from './chat.types.js';
import type { EndUserTokens } from './end-user-token.js';
import { announceChange, generateAnswer, startKnowledge, type AnswerContext } from './answer.js';
import { follow, replay } from './replay.js';
import type { AnswerLeases } from './answer-lease.js';
import type { Retriever } from './retriever.js';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import type { MessageRecord, StoredMessage } from '../conversations/message.model.js';
import type { StoredConversation } from '../conversations/conversation.model.js';
import type { ActionsService } from '../actions/actions.service.js';
import { continueTurn, type ConfirmEvent, type PausedAnswer } from './continue-turn.js';

export interface ChatDeps {
  chatbots: ChatbotsService;
  conversations: ConversationsService;
  usage: UsageService;
  modelResolver: ModelResolver;
  retriever: Retriever;
  endUserTokens: EndUserTokens;
  leases: AnswerLeases;
  logger: Logger;
  /**
   * Announces the turn. Only the webhook outbox is waited for (`notifyDurably`, before the turn is
   * acknowledged); other subscribers never slow or fail it.
   */
  events: EventPublisher;
  /** The bot's actions, offered to the model as tools (absent: no tool calling). */
  actions?: ActionsService;
}

/**
 * The one chat flow behind every door (REST JSON, SSE, the widget socket).
 * The user's message is stored before the model is called; the answer is stored when
 * complete or marked failed, so nothing accepted is lost and nothing is stored twice.
 */
export class ChatService {
  constructor(private readonly deps: ChatDeps) {}

  /**
   * Runs one turn. It never throws: every failure, a refusal before `accepted` (404, 413, 429...) as much as
   * a failed answer after it, ends the turn with one `error` event, so every door handles one shape.
   */
  async *run(turn: ChatTurn, signal: AbortSignal): AsyncGenerator<ChatEvent> {
    // Doors may pass a long-lived signal (the widget passes the server's); the turn gets its own.
    const linked = linkSignal(signal);
    let accepted: { conversationId: string; assistantMessageId: string } | null = null;
    try {
      for await (const event of this.runTurn(turn, linked.signal)) {
        if (event.type === 'accepted') accepted = event;
        yield event;
      }
    } catch (error) {
      if (!(error instanceof AppError)) this.deps.logger.error({ err: error }, 'chat turn failed');
      yield {
        type: 'error',
        error: toAppError(error),
        conversationId: accepted?.conversationId ?? null,
        assistantMessageId: accepted?.assistantMessageId ?? null,
      };
    } finally {
      linked.release();
    }
  }

  /**
   * Answers an action a turn paused for and continues the turn (see `continueTurn`). Like `run` it never
   * throws: a token or message with nothing waiting ends in one 404 `error` event.
   */
  async *confirm(paused: PausedAnswer, approve: boolean, signal: AbortSignal): AsyncGenerator<ConfirmEvent> {
    const linked = linkSignal(signal);
    try {
      yield* continueTurn(this.deps, paused, approve, linked.signal);
    } catch (error) {
      if (!(error instanceof AppError)) this.deps.logger.error({ err: error }, 'confirmation failed');
      yield { type: 'error', error: toAppError(error), conversationId: null, assistantMessageId: null };
    } finally {
      linked.release();
    }
  }

  private async *runTurn(turn: ChatTurn, signal: AbortSignal): AsyncGenerator<ChatEvent> {
    const { chatbots, conversations, usage } = this.deps;
    const startedAt = Date.now();
    if (turn.message.length > MAX_MESSAGE_CHARS) {
      throw new AppError('PayloadTooLargeError', {
        message: `The message is ${turn.message.length} characters; the limit is ${MAX_MESSAGE_CHARS}`,
        details: { limit: MAX_MESSAGE_CHARS },
      });
    }
    // Never changed by the turn, so the shared document of the cached bot (see `findShared`).
    const bot = await chatbots.findShared(turn.organizationId, turn.chatbot);
    if (bot.status !== 'active')
      throw new AppError('ForbiddenError', { message: `The chatbot "${bot.slug}" is disabled` });
    // Retrieval reads only the knowledge, so it runs while the turn's records are written.
    const knowledge = startKnowledge(this.deps, bot, turn.message, signal);
    // The quota is reserved before the turn (one conditional $inc), and given back when the turn
    // answers nothing: a replayed answer and a failure before any answer text do not count.
    let reservation: QuotaReservation | null = null;
    let answered = false;
    try {
      const user: EndUser | null =
        turn.user ??
        (turn.userToken ? await this.deps.endUserTokens.verify(turn.userToken, chatbots.identitySecretOf(bot)) : null);
      // A conversation the turn starts is written with the turn's message counted (`firstMessage`).
      const startedHere = conversations.opensNew(turn);
      // Nothing can be replayed without a clientMessageId or in a new conversation, so an exhausted quota refuses
      // before anything is written.
      if (!turn.clientMessageId || startedHere) reservation = await usage.reserveMessage(turn.organizationId);
      const conversation = await conversations.open({
        organizationId: bot.organizationId,
        chatbotId: bot._id,
        channel: turn.channel,
        conversationId: turn.conversationId,
        sessionId: turn.sessionId,
        visitorId: turn.visitorId,
        user,
        metadata: turn.metadata,
        pageUrl: turn.pageUrl,
        ...(startedHere ? { firstMessage: turn.message } : {}),
      });

      // A conversation started by this turn holds no earlier send of the message (the first widget message of
      // each conversation skips this round trip); a repeat still fails its insert on the unique key, below.
      let existing =
        turn.clientMessageId && !startedHere
          ? await conversations.findUserMessage(conversation._id, turn.clientMessageId)
          : null;
      if (existing) {
        const replayed = yield* replay(this.deps, existing, signal);
        if (replayed) return;
      }
      reservation ??= await usage.reserveMessage(turn.organizationId);

      let stored: { userMessage: StoredMessage; answer: StoredMessage };
      if (existing) {
        // A retried message gets its failed or abandoned answer reused, or one created; when a racing send of
        // the same message took it first, this send follows that one's answer.
        const answer = await this.prepareAnswer(existing, true);
        if (!answer) return yield* follow(this.deps, existing, signal);
        stored = { userMessage: existing, answer };
      } else {
        try {
          // A new message and its pending answer are one write.
          stored = await conversations.createTurnMessages(
            conversation,
            turn.message,
            turn.clientMessageId ?? `gen:${randomUUID()}`,
            this.deps.leases.claim(),
          );
        } catch (error) {
          // The conversation the turn started counted the message it could not store: it holds none.
          if (startedHere) {
            await conversations.uncountFirst(conversation).catch((undoError: unknown) => {
              this.deps.logger.error({ err: undoError }, 'could not take back the count of an unstored message');
            });
          }
          const winner =
            isDuplicateKeyError(error) && turn.clientMessageId
              ? await conversations.findUserMessage(conversation._id, turn.clientMessageId)
              : null;
          if (!winner) throw error;
          // Two sends of the same clientMessageId raced, and the loser is a retry of the winner's send: it replays
          // the winner's answer or, when that answer failed (or its writer is gone), answers again as any retry
          // does. It never ends without an event, so every door answers it.
          if (yield* replay(this.deps, winner, signal)) return;
          existing = winner;
          const answer = await this.prepareAnswer(winner, true);
          if (!answer) return yield* follow(this.deps, winner, signal);
          stored = { userMessage: winner, answer };
        }
      }
      const { userMessage, answer } = stored;
      // The records just written are announced to analytics, which need not read them back, and may hold them
      // briefly to apply them with the answer's change (not awaited: the answer's announcement is). A
      // conversation that had no message when opened may be new, so it is announced too (analytics applies a
      // repeated record once).
      void announceChange(
        this.deps,
        answer,
        [...(startedHere || (conversation.messageCount ?? 0) === 0 ? [conversation] : []), userMessage, answer],
        { asWritten: true, followUp: true },
      );
      const messageCount = existing
        ? undefined
        : startedHere
          ? 1
          : await conversations.touch(conversation._id, turn.message, 1);
      // Stored for webhooks before the turn is acknowledged (the counters decide whether it is the first message).
      if (!existing) await this.announceReceived(conversation, userMessage, messageCount === 1);

      yield {
        type: 'accepted',
        conversationId: conversation._id.toString(),
        userMessageId: userMessage._id.toString(),
        assistantMessageId: answer._id.toString(),
        duplicate: false,
        quotaWarning: reservation.warning,
      };

      const context: AnswerContext = {
        bot,
        conversation,
        userMessage,
        answer,
        question: userMessage.content ?? turn.message,
        history: turn.history ?? null,
        // The conversation's first message has no history to read.
        firstMessage: messageCount === 1,
        startedAt,
        knowledge,
      };
      for await (const event of generateAnswer(this.deps, context, signal)) {
        // Any answer text sent (even cut short later) counts as an answered message.
        if (event.type === 'chunk' || event.type === 'done') answered = true;
        yield event;
      }
    } finally {
      if (reservation && !answered) {
        await reservation.release().catch((error: unknown) => {
          this.deps.logger.error({ err: error }, 'could not give back a reserved message of the quota');
        });
      }
    }
  }

  /**
   * `message.received`, after `conversation.created` when it is the conversation's first message; stored
   * for webhooks before the turn is acknowledged (`accepted`).
   */
  private async announceReceived(
    conversation: StoredConversation,
    userMessage: StoredMessage,
    first: boolean,
  ): Promise<void> {
    const ids = {
      organizationId: conversation.organizationId.toString(),
      chatbotId: conversation.chatbotId.toString(),
      conversationId: conversation._id.toString(),
      channel: conversation.channel,
      visitorId: conversation.visitorId ?? null,
    };
    if (first) {
      await this.deps.events.notifyDurably('conversation.created', {
        ...ids,
        occurredAt: isoTime(conversation.createdAt),
        userSub: conversation.user?.sub ?? null,
      });
    }
    await this.deps.events.notifyDurably('message.received', {
      ...ids,
      occurredAt: isoTime(userMessage.createdAt),
      messageId: userMessage._id.toString(),
      text: userMessage.content ?? '',
    });
  }

  /**
   * The assistant message for a user message: reused when a failed or abandoned answer is retried, else created.
   * Null when another send of the same message took the answer over first.
   */
  private async prepareAnswer(userMessage: MessageRecord, isRetry: boolean): Promise<MessageRecord | null> {
    const { conversations, leases } = this.deps;
    try {
      return await conversations.answers.startAnswer(
        userMessage,
        leases.claim(),
        isRetry ? leases.staleFilter() : null,
      );
    } catch (error) {
      if (isDuplicateKeyError(error)) return null;
      throw error;
    }
  }
}
