import type { Types } from 'mongoose';
import type { ChatService } from '../chat/chat.service.js';
import type { ChatTurn } from '../chat/chat.types.js';
import { AppError } from '../errors/app-error.js';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import type { Logger } from '../logger.js';
import {
  exponentialBackoff,
  LeaseQueue,
  queuedJobState,
  type FailureVerdict,
  type JobCollection,
  type LeasedJob,
} from '../queue/lease-queue.js';
import type { ChannelType } from '../../shared/schemas/channels.js';
import { MAX_MESSAGE_CHARS, type ChatResult } from '../../shared/schemas/chat.js';
import type {
  ConfirmVerdict,
  InboundConfirm,
  InboundFeedback,
  InboundMessage,
  InboundRequest,
  OutboundReply,
  PendingActionReply,
} from './adapters/adapter.js';
import type { ConversationsService } from '../conversations/conversations.service.js';
import type { ChannelEventModel, ChannelEventRecord, ChannelRecord } from './channel.model.js';
import { CHANNEL_DISCONNECTED, type ChannelsService } from './channels.service.js';
import { PlatformError } from './platform-http.js';

export interface ChannelReplySettings {
  concurrency: number;
  maxAttempts: number;
  backoffMs: number;
  leaseMs: number;
  pollMs: number;
  /** How long an inbound request asking for a synchronous answer waits for it. */
  syncWaitMs: number;
}

/** What an inbound delivery is answered with. */
export type InboundAnswer =
  | { kind: 'accepted'; accepted: number }
  | { kind: 'respond'; status: number; body: unknown }
  | {
      kind: 'answered';
      text: string;
      conversationId: string;
      messageId: string;
      requiresAction: PendingActionReply | null;
    }
  | { kind: 'pending'; eventId: string };

/** A failure that is final for this reply, with the reason kept on its job. */
class FinalFailure extends Error {}

/**
 * The door of the chat flow for messaging platforms. An inbound delivery is verified, each message is stored
 * as a job (unique per platform event id: a retried delivery is answered once), and acknowledged at once:
 * platforms time out quickly (Slack after 3 s). The job runs the turn through the chat service, keeps the
 * answer, and delivers it until the platform takes it.
 */
export class ChannelReplies {
  private readonly queue: LeaseQueue<ChannelEventRecord>;

  constructor(
    private readonly deps: {
      models: { ChannelEvent: ChannelEventModel };
      channels: ChannelsService;
      chat: ChatService;
      conversations: ConversationsService;
      logger: Logger;
      settings: ChannelReplySettings;
    },
  ) {
    const { settings } = deps;
    this.queue = new LeaseQueue<ChannelEventRecord>(
      deps.models.ChannelEvent as unknown as JobCollection,
      {
        process: (job, signal) => this.process(job, signal),
        classify: (error) => classify(error),
      },
      {
        name: 'channel-replies',
        concurrency: settings.concurrency,
        leaseMs: settings.leaseMs,
        pollMs: settings.pollMs,
        maxAttempts: settings.maxAttempts,
        retryDelayMs: exponentialBackoff(settings.backoffMs),
      },
      deps.logger,
    );
  }

  start(): void {
    this.queue.start();
  }

  stop(): Promise<void> {
    return this.queue.stop();
  }

  /** Verifies and stores one inbound delivery, then answers the platform. */
  async receive(channelId: string, request: InboundRequest): Promise<InboundAnswer> {
    const channel = await this.deps.channels.findForInbound(channelId);
    const adapter = this.deps.channels.adapterOf(channel.type);
    const outcome = adapter.receive(request, this.deps.channels.open(channel));
    if (outcome.kind === 'respond') return outcome;
    if (outcome.kind === 'feedback') {
      await this.recordFeedback(channel, outcome.feedback);
      await adapter
        .feedbackTaken?.(this.deps.channels.open(channel), this.deps.channels.httpFor(channel.type), outcome.feedback)
        .catch((error: unknown) => {
          // Only a courtesy (the button stops spinning): the rating is stored either way.
          this.deps.logger.warn({ err: error, channelId }, 'telling the platform a rating was taken failed');
        });
      return { kind: 'accepted', accepted: 1 };
    }
    if (outcome.kind === 'confirm') {
      const answered = await this.receiveConfirm(channel, outcome.confirm);
      if (answered) return answered;
      if (!outcome.confirm.otherwise) return { kind: 'accepted', accepted: 0 };
    }
    const messages =
      outcome.kind === 'messages' ? outcome.messages : outcome.kind === 'confirm' ? [outcome.confirm.otherwise!] : [];
    const stored = await Promise.all(messages.map((message) => this.store(channel, message)));
    // Not awaited: the acknowledgement should not wait on a status field.
    if (messages.length > 0)
      this.deps.channels.recordEvent(channel._id).catch((error: unknown) => {
        this.deps.logger.warn({ err: error, channelId }, 'recording when a channel last received an event failed');
      });
    this.queue.notify();
    const sync = messages.findIndex((message) => message.syncReply);
    const syncId = sync >= 0 ? stored[sync] : undefined;
    if (syncId) return this.awaitAnswer(syncId);
    return { kind: 'accepted', accepted: messages.length };
  }

  /**
   * A visitor's Approve / Decline: the paused answer it names (by the delivered message, the thread, or the
   * token) is found among this channel's answers, only the visitor who asked may answer it, and the answer is
   * stored as a job keyed by the token, so a second press (or a retried delivery) continues nothing more. The
   * platform is told how it was taken (`confirmTaken`), so the user who pressed or replied hears why when not.
   * Returns null when nothing waits in a thread and the delivery is an ordinary message (`otherwise`).
   */
  private async receiveConfirm(channel: ChannelRecord, confirm: InboundConfirm): Promise<InboundAnswer | null> {
    const { ChannelEvent } = this.deps.models;
    const adapter = this.deps.channels.adapterOf(channel.type);
    const tell = (verdict: ConfirmVerdict) =>
      adapter
        .confirmTaken?.(this.deps.channels.open(channel), this.deps.channels.httpFor(channel.type), confirm, verdict)
        .catch((error: unknown) => {
          // Only a courtesy (the button stops spinning, the buttons go): the answer is stored either way.
          this.deps.logger.warn({ err: error, channelId: channel._id.toString() }, 'acknowledging a press failed');
        });
    const filter: Record<string, unknown> = { channelId: channel._id, 'answer.pendingAction.token': { $ne: null } };
    if (confirm.token) filter['answer.pendingAction.token'] = confirm.token;
    else if (confirm.deliveredRef) filter.deliveredRef = confirm.deliveredRef;
    else if (confirm.threadKey) filter.threadKey = confirm.threadKey;
    else return null;
    const paused = await ChannelEvent.findOne(filter).sort({ createdAt: -1 }).lean();
    const pending = paused?.answer?.pendingAction as PendingActionReply | null | undefined;
    const spent = pending
      ? await ChannelEvent.findOne({ channelId: channel._id, eventKey: confirmKey(pending) }, { confirm: 1 }).lean()
      : null;
    const question =
      paused && pending
        ? { deliveredRef: paused.deliveredRef ?? null, text: paused.answer?.text ?? '', askerId: paused.userId }
        : null;
    // An action decided through another door since it was asked (the API, the console) waits no more either: the
    // asker's press is told so now, rather than queued to continue nothing and left unanswered.
    const state =
      paused && pending && !spent && paused.userId === confirm.userId
        ? await this.deps.conversations.answers.actionState(channel.organizationId, pending.token)
        : 'waiting';
    if (!paused || !pending || paused.userId !== confirm.userId || spent || state !== 'waiting') {
      // A thread reply that answers nothing is an ordinary question.
      if (confirm.otherwise && !spent && (!paused || !pending)) return null;
      const decided = spent ? { approve: spent.confirm?.approve ?? null } : decisionIn(state);
      await tell({
        kind: decided ? 'answered' : question && paused?.userId !== confirm.userId ? 'notAsker' : 'nothing',
        question,
        approved: decided?.approve ?? null,
      });
      if (confirm.token)
        throw new AppError('NotFoundError', {
          message: 'No action of this channel waits for this token and user: it was already answered, or never existed',
        });
      return { kind: 'accepted', accepted: 0 };
    }
    const stored = await this.store(
      channel,
      {
        eventKey: confirmKey(pending),
        text: confirm.approve ? 'approve' : 'decline',
        userId: confirm.userId,
        userName: paused.userName ?? null,
        threadKey: paused.threadKey,
        replyTo: confirm.replyTo ?? (paused.replyTo as Record<string, string>),
        syncReply: confirm.syncReply,
      },
      { token: pending.token, approve: confirm.approve },
    );
    await tell(stored.created ? { kind: 'taken', question } : { kind: 'answered', question, approved: null });
    this.queue.notify();
    if (!stored.created) return { kind: 'accepted', accepted: 0 };
    if (confirm.syncReply && stored.id) return this.awaitAnswer(stored.id);
    return { kind: 'accepted', accepted: 1 };
  }

  /** A rating of a delivered answer becomes the answer's feedback, as a thumbs up or down in the widget does. */
  private async recordFeedback(channel: ChannelRecord, feedback: InboundFeedback): Promise<void> {
    const answered = await this.deps.models.ChannelEvent.findOne({
      channelId: channel._id,
      deliveredRef: feedback.deliveredRef,
    }).lean();
    const messageId = answered?.answer?.messageId;
    // A reaction on anything but one of the bot's answers is not feedback.
    if (!messageId) return;
    await this.deps.conversations.feedback(
      channel.organizationId.toString(),
      messageId,
      feedback.rating,
      undefined,
      channel.chatbotId,
    );
  }

  /** Stores a message as a queued reply; the same platform event again stores nothing. Returns its job id. */
  private async store(channel: ChannelRecord, message: InboundMessage): Promise<Types.ObjectId | null>;
  private async store(
    channel: ChannelRecord,
    message: InboundMessage,
    confirm: { token: string; approve: boolean },
  ): Promise<{ id: Types.ObjectId | null; created: boolean }>;
  private async store(
    channel: ChannelRecord,
    message: InboundMessage,
    confirm?: { token: string; approve: boolean },
  ): Promise<Types.ObjectId | null | { id: Types.ObjectId | null; created: boolean }> {
    try {
      const job = await this.deps.models.ChannelEvent.create({
        organizationId: channel.organizationId,
        chatbotId: channel.chatbotId,
        channelId: channel._id,
        eventKey: message.eventKey,
        text: message.text.slice(0, MAX_MESSAGE_CHARS),
        userId: message.userId,
        userName: message.userName,
        threadKey: message.threadKey,
        replyTo: message.replyTo,
        syncReply: message.syncReply ?? false,
        ...(confirm ? { confirm } : {}),
        ...queuedJobState(),
      });
      return confirm ? { id: job._id, created: true } : job._id;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      const first = await this.deps.models.ChannelEvent.findOne({ channelId: channel._id, eventKey: message.eventKey });
      const id = first?._id ?? null;
      return confirm ? { id, created: false } : id;
    }
  }

  /** Waits for a synchronous answer; one not ready in time is still delivered by its job (202). */
  private async awaitAnswer(jobId: Types.ObjectId): Promise<InboundAnswer> {
    const deadline = Date.now() + this.deps.settings.syncWaitMs;
    while (Date.now() < deadline) {
      const job = await this.deps.models.ChannelEvent.findById(jobId).lean();
      if (job?.answer?.text && job.answer.conversationId && job.answer.messageId)
        return {
          kind: 'answered',
          text: job.answer.text,
          conversationId: job.answer.conversationId,
          messageId: job.answer.messageId,
          requiresAction: (job.answer.pendingAction as PendingActionReply | null) ?? null,
        };
      if (!job || job.status === 'failed') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { kind: 'pending', eventId: jobId.toString() };
  }

  private async process(job: LeasedJob<ChannelEventRecord>, signal: AbortSignal): Promise<Record<string, unknown>> {
    const record = job.record;
    const { channels } = this.deps;
    const channel = await channels.findForInbound(record.channelId.toString()).catch(() => null);
    if (!channel) throw new FinalFailure('the channel was deleted');
    if (channel.status === 'disconnected') throw new FinalFailure(CHANNEL_DISCONNECTED);
    const open = channels.open(channel);
    const adapter = channels.adapterOf(channel.type);
    const http = channels.httpFor(channel.type, signal);
    try {
      let answer = record.answer?.text ? (record.answer as OutboundReplyParts) : null;
      if (!answer) {
        await adapter.typing?.(open, http, record.replyTo as Record<string, string>).catch(() => {
          // Only a courtesy: the answer follows either way.
        });
        const confirm = record.confirm?.token ? record.confirm : null;
        answer = confirm
          ? await this.continueTurn(record, confirm.token!, confirm.approve === true, signal)
          : await this.runTurn(channel, record, signal);
        // A press on an action answered elsewhere meanwhile (through the API) continues nothing; its presser hears why.
        if (!answer) {
          if (confirm) await this.tellDecidedElsewhere(channel, record, confirm);
          return {};
        }
        // Kept at once, so a failed delivery is retried without asking the model again.
        await this.deps.models.ChannelEvent.updateOne({ _id: job.id, lockToken: job.lockToken }, { $set: { answer } });
      }
      if (record.syncReply) return { deliveredAt: new Date() };
      const reply: OutboundReply = { ...answer, eventKey: record.eventKey, threadKey: record.threadKey };
      const deliveredRef = await adapter.send(open, http, record.replyTo as Record<string, string>, reply);
      return { deliveredAt: new Date(), deliveredRef: deliveredRef ?? null };
    } catch (error) {
      if (error instanceof PlatformError && error.options.credentialsRejected) {
        await channels.markDisconnected(channel, error.message);
        throw new FinalFailure(CHANNEL_DISCONNECTED);
      }
      throw error;
    }
  }

  /**
   * Tells the user whose press was taken, but found its action decided through another door by the time its job
   * ran, that nothing more was done (where the platform can still reach them: not a Telegram press, whose
   * callback query was answered when it was taken). Best effort, like every acknowledgement of a press.
   */
  private async tellDecidedElsewhere(
    channel: ChannelRecord,
    record: ChannelEventRecord,
    confirm: { token?: string | null; approve?: boolean | null },
  ): Promise<void> {
    try {
      const state = confirm.token
        ? await this.deps.conversations.answers.actionState(channel.organizationId, confirm.token)
        : null;
      const decided = decisionIn(state);
      await this.deps.channels.adapterOf(channel.type).confirmTaken?.(
        this.deps.channels.open(channel),
        this.deps.channels.httpFor(channel.type),
        {
          approve: confirm.approve === true,
          userId: record.userId,
          replyTo: record.replyTo as Record<string, string>,
        },
        { kind: decided ? 'answered' : 'nothing', question: null, approved: decided?.approve ?? null },
      );
    } catch (error) {
      this.deps.logger.warn({ err: error, channelId: channel._id.toString() }, 'acknowledging a press failed');
    }
  }

  /** Continues the paused turn with the visitor's answer; null when nothing waits for the token any more. */
  private async continueTurn(
    record: ChannelEventRecord,
    token: string,
    approve: boolean,
    signal: AbortSignal,
  ): Promise<OutboundReplyParts | null> {
    // This job is the taker: run again after a crash, it resumes the confirmation it took (the action's stored
    // outcome is reused, the follow-up written once) instead of finding nothing waiting.
    const paused = {
      organizationId: record.organizationId.toString(),
      token,
      taker: `channel-event:${record._id.toString()}`,
    };
    for await (const event of this.deps.chat.confirm(paused, approve, signal)) {
      if (event.type === 'error') {
        if (event.error.name === 'NotFoundError' && !event.assistantMessageId) return null;
        throw event.error;
      }
      if (event.type === 'done') return replyParts(event.result);
    }
    throw new Error('the confirmed turn ended without an answer');
  }

  /** One turn of the chat flow: the platform chat is the conversation, the platform user its visitor. */
  private async runTurn(
    channel: ChannelRecord,
    record: ChannelEventRecord,
    signal: AbortSignal,
  ): Promise<OutboundReplyParts> {
    const type = channel.type as ChannelType;
    const turn: ChatTurn = {
      organizationId: record.organizationId.toString(),
      chatbot: record.chatbotId.toString(),
      message: record.text,
      sessionId: `${type}:${channel._id.toString()}:${record.threadKey}`,
      visitorId: `${type}:${record.userId}`,
      // The platform event id: a turn retried after a crash replays the stored answer.
      clientMessageId: `${type}:${record.eventKey}`.slice(0, 200),
      channel: type,
      metadata: record.userName ? { platformUserName: record.userName.slice(0, 200) } : undefined,
    };
    for await (const event of this.deps.chat.run(turn, signal)) {
      if (event.type === 'error') throw event.error;
      if (event.type === 'done') return replyParts(event.result);
    }
    throw new Error('the chat turn ended without an answer');
  }
}

type OutboundReplyParts = Pick<OutboundReply, 'text' | 'conversationId' | 'messageId' | 'pendingAction'>;

function replyParts(result: ChatResult): OutboundReplyParts {
  const pending = result.requiresAction;
  return {
    text: result.response,
    conversationId: result.conversationId,
    messageId: result.messageId,
    pendingAction: pending
      ? { action: pending.action, description: pending.description, arguments: pending.arguments, token: pending.token }
      : null,
  };
}

/** The job key of the answer to one paused action: one answer per token, whichever button and however often. */
const confirmKey = (pending: PendingActionReply) => `confirm:${pending.token}`;

function classify(error: unknown): FailureVerdict {
  if (error instanceof FinalFailure) return { retryable: false, reason: error.message };
  if (error instanceof PlatformError) return { retryable: error.retryable, reason: error.message };
  // The chat flow's refusals (quota used up, bot disabled) stand; its outages (model, database) pass.
  if (error instanceof AppError) return { retryable: error.status >= 500, reason: error.message };
  return { retryable: true, reason: 'answering failed unexpectedly' };
}

/** How an action was decided, from `AnswerMessages.actionState`; null while it waits or when none is found. */
function decisionIn(state: 'waiting' | { approve: boolean | null } | null): { approve: boolean | null } | null {
  return state === 'waiting' ? null : state;
}
