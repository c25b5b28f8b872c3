import { Types } from 'mongoose';
import type { SourceRef } from '../../shared/schemas/chat.js';
import type { PendingAction, StoredToolCall } from '../actions/tool-turn.js';
import { KeyedGroupCommit } from '../db/group-commit.js';
import { writeErrorsOf } from '../db/write-errors.js';
import { isMessageDocument, type MessageModel, type MessageRecord, type StoredMessage } from './message.model.js';

/**
 * How long an answer's writes wait for others to ride on (see `completeAnswer`, and the conversation's counters in
 * `ConversationsService.touchAnswered`): the turn waits for them together with its usage counters, which wait as
 * long (`UsageWrites.add`).
 */
export const ANSWER_WRITES_LINGER_MS = 5;

/** The fields that hand a pending answer to one turn of one process (see chat/answer-lease.ts). */
export interface AnswerLease {
  leaseOwner: string;
  leaseId: string;
  heartbeatAt: Date;
}

/** What a finished answer stores. */
export interface CompletedAnswer {
  content: string;
  sources: SourceRef[];
  confidence: number;
  model: string | null;
  finishReason: string;
  promptTokens: number;
  completionTokens: number;
  askedForEmail: boolean;
  firstTokenMs: number | null;
  durationMs: number;
  /** The actions the model called for this answer. */
  toolCalls?: StoredToolCall[];
  /** An action waiting for the end user's confirmation. */
  pendingAction?: PendingAction | null;
}

/**
 * A new pending answer to `question` under `lease`. Its `clientMessageId` is derived from the question's id, so a
 * second answer to one question fails with a duplicate key.
 */
export function pendingAnswer(
  question: Pick<MessageRecord, '_id' | 'organizationId' | 'chatbotId' | 'conversationId'>,
  lease: AnswerLease,
) {
  return {
    organizationId: question.organizationId,
    chatbotId: question.chatbotId,
    conversationId: question.conversationId,
    role: 'assistant' as const,
    content: '',
    status: 'pending' as const,
    clientMessageId: `answer:${question._id.toString()}`,
    replyTo: question._id,
    ...lease,
  };
}

/** One update of one record by id, its timestamps included (see `bulkUpdate`). */
interface IdUpdate {
  _id: Types.ObjectId;
  update: Record<string, unknown>;
}

/**
 * Writes updates of records by id in one unordered bulk write of the driver (the updates hold plain values of
 * the schema's types, their `updatedAt` included: nothing to cast); returns each update's error (undefined when
 * written) when some failed.
 */
async function bulkUpdate(model: MessageModel, updates: IdUpdate[]): Promise<unknown[] | void> {
  try {
    await model.collection.bulkWrite(
      updates.map(({ _id, update }) => ({ updateOne: { filter: { _id }, update } })),
      { ordered: false },
    );
  } catch (error) {
    // A bulk write that names no refused write (a lost connection) made none known: all of them fail.
    const failed = writeErrorsOf(error);
    if (!failed) throw error;
    const errors: unknown[] = updates.map(() => undefined);
    for (const write of failed) errors[write.index] = error;
    return errors;
  }
}

/**
 * The bot's answers among a conversation's messages, from pending (held by one turn under a lease) to complete
 * or failed, and the actions they pause for. The messages collection is the conversations capability's
 * (`ConversationsService.answers`); this is the part of it the chat turn, its replays and retries, and the lease
 * sweeper write.
 */
export class AnswerMessages {
  /** Updates of messages by id asked in one tick: one unordered bulk write. */
  private readonly messageUpdates = new KeyedGroupCommit<IdUpdate>((_key, updates) =>
    bulkUpdate(this.messages, updates),
  );

  constructor(private readonly messages: MessageModel) {}

  /**
   * Creates the pending answer to `question` under `lease`; when `reclaimable` (the filter of answers whose
   * writer is gone) is given, an earlier answer that failed or matches it is taken over instead. A second
   * pending answer fails with a duplicate key.
   */
  async startAnswer(
    question: MessageRecord,
    lease: AnswerLease,
    reclaimable: Record<string, unknown> | null,
  ): Promise<MessageRecord> {
    const answer = pendingAnswer(question, lease);
    const reset =
      reclaimable &&
      (await this.messages.findOneAndUpdate(
        {
          conversationId: question.conversationId,
          clientMessageId: answer.clientMessageId,
          $or: [{ status: 'failed' }, reclaimable],
        },
        { $set: { status: 'pending', content: '', error: null, sources: [], ...lease } },
        { returnDocument: 'after' },
      ));
    if (reset) return reset;
    return this.messages.create(answer);
  }

  /** The answer to a user message, if one was started. */
  answerTo(questionId: Types.ObjectId): Promise<MessageRecord | null> {
    return this.messages.findOne({ replyTo: questionId, role: 'assistant' });
  }

  /**
   * Stores a finished answer on the record the turn holds (which then reads as stored): one update of the
   * fields, written with the other answers finished in the same tick.
   */
  async completeAnswer(answer: StoredMessage, fields: CompletedAnswer): Promise<void> {
    // Fields left out are not written (the driver would store an undefined one as null).
    const stored: Record<string, unknown> = {};
    for (const key in fields) {
      const value = fields[key as keyof CompletedAnswer];
      if (value !== undefined) stored[key] = value;
    }
    stored.status = 'complete';
    stored.updatedAt = new Date();
    // A record the turn built is plain: the stored values, of the schema's types already, are its fields.
    if (isMessageDocument(answer)) answer.set(stored);
    else Object.assign(answer, stored);
    // The turn waits for it together with counters that linger as long (`ConversationsService.touchAnswered`):
    // answers finished within that time share the write.
    await this.messageUpdates.add(
      '',
      { _id: answer._id, update: { $set: stored } },
      { lingerMs: ANSWER_WRITES_LINGER_MS },
    );
  }

  /**
   * Takes the action an answer paused for, once: the answer matching `filter` that still waits is set pending
   * under `lease` (the turn goes on), the action moves to `takenAction` with the decision, and is returned with
   * the answer; null when none waits.
   */
  async takePendingAction(
    filter: { organizationId: string; token: string } | { chatbotId: Types.ObjectId; messageId: Types.ObjectId },
    lease: AnswerLease,
    decision: { approve: boolean; taker: string | null },
  ): Promise<{ answer: MessageRecord; pending: PendingAction } | null> {
    const match: Record<string, unknown> =
      'token' in filter
        ? { organizationId: new Types.ObjectId(filter.organizationId), 'pendingAction.token': filter.token }
        : { _id: filter.messageId, chatbotId: filter.chatbotId, role: 'assistant', pendingAction: { $ne: null } };
    const found = await this.messages.findOne(match, { pendingAction: 1 }).lean();
    const pending = found?.pendingAction as PendingAction | null | undefined;
    if (!found || !pending) return null;
    // Taken only while its token still waits: of two answers at once, one takes it.
    const answer = await this.messages.findOneAndUpdate(
      { _id: found._id, 'pendingAction.token': pending.token },
      { $set: { pendingAction: null, takenAction: { ...pending, ...decision }, status: 'pending', ...lease } },
      { returnDocument: 'after' },
    );
    return answer ? { answer, pending } : null;
  }

  /**
   * Whether the action an answer of the organization paused for (by its token) still waits: `'waiting'`, how it
   * was decided once taken (`approve`, null when not recorded), or null when no answer holds the token.
   */
  async actionState(
    organizationId: Types.ObjectId,
    token: string,
  ): Promise<'waiting' | { approve: boolean | null } | null> {
    const found = await this.messages
      .findOne(
        { organizationId, $or: [{ 'pendingAction.token': token }, { 'takenAction.token': token }] },
        { pendingAction: 1, takenAction: 1 },
      )
      .lean();
    if (!found) return null;
    if ((found.pendingAction as { token?: string } | null)?.token === token) return 'waiting';
    const approve = (found.takenAction as { approve?: unknown } | null)?.approve;
    return { approve: typeof approve === 'boolean' ? approve : null };
  }

  /**
   * The answer whose action was taken with `token` by `taker` (a channel's reply job; null for a REST or widget
   * confirmation, where presenting the token, or being the widget visitor of the answer, is the right to retry),
   * for a retry of that confirmation: taken again under `lease` when it was interrupted (failed, or pending with
   * its writer gone); returned as it is when complete or still being written by a live turn; null when no such
   * confirmation was taken. With `approve`, only a confirmation answered that way is taken again.
   */
  async retakeAction(
    filter:
      | { organizationId: string; token: string; taker: string | null }
      | { chatbotId: Types.ObjectId; messageId: Types.ObjectId },
    lease: AnswerLease,
    stale: Record<string, unknown>,
    approve?: boolean,
  ): Promise<{ answer: MessageRecord; taken: PendingAction & { approve: boolean }; retaken: boolean } | null> {
    const match: Record<string, unknown> =
      'token' in filter
        ? {
            organizationId: new Types.ObjectId(filter.organizationId),
            'takenAction.token': filter.token,
            'takenAction.taker': filter.taker,
          }
        : { _id: filter.messageId, chatbotId: filter.chatbotId, role: 'assistant', 'takenAction.taker': null };
    const retaken = await this.messages.findOneAndUpdate(
      {
        ...match,
        ...(approve === undefined ? { takenAction: { $ne: null } } : { 'takenAction.approve': approve }),
        $or: [{ status: 'failed' }, stale],
      },
      { $set: { status: 'pending', error: null, ...lease } },
      { returnDocument: 'after' },
    );
    const answer = retaken ?? (await this.messages.findOne({ ...match, takenAction: { $ne: null } }));
    if (!answer) return null;
    return { answer, taken: answer.takenAction as PendingAction & { approve: boolean }, retaken: Boolean(retaken) };
  }

  /** Marks an answer failed, only while `leaseId` still holds it; false when another turn took it over. */
  async failAnswer(
    answerId: Types.ObjectId,
    leaseId: string | null | undefined,
    fields: { content: string; error: string; firstTokenMs: number | null; durationMs: number },
  ): Promise<boolean> {
    const result = await this.messages.updateOne({ _id: answerId, leaseId }, { $set: { status: 'failed', ...fields } });
    return result.matchedCount > 0;
  }

  /** Writes the text streamed so far and the heartbeat of a pending answer, while `leaseId` holds it. */
  async checkpointAnswer(answerId: Types.ObjectId, leaseId: string, content: string): Promise<void> {
    await this.messages.updateOne(
      { _id: answerId, status: 'pending', leaseId },
      { $set: { content, heartbeatAt: new Date() } },
    );
  }

  /** Which of `ids` are answers still being written (pending). */
  async pendingAnswerIds(ids: Types.ObjectId[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const pending = await this.messages.find({ _id: { $in: ids }, status: 'pending' }, { _id: 1 }).lean();
    return new Set(pending.map((doc) => doc._id.toString()));
  }

  /** Marks every answer matching `stale` (pending, writer gone) failed with `error`; returns how many. */
  async failStaleAnswers(stale: Record<string, unknown>, error: string): Promise<number> {
    const result = await this.messages.updateMany(
      { role: 'assistant', ...stale },
      { $set: { status: 'failed', error } },
    );
    return result.modifiedCount;
  }

  /** An answer of the bot, if any. */
  answerOfBot(chatbotId: Types.ObjectId, messageId: string): Promise<MessageRecord | null> {
    if (!Types.ObjectId.isValid(messageId)) return Promise.resolve(null);
    return this.messages.findOne({ _id: new Types.ObjectId(messageId), chatbotId, role: 'assistant' });
  }

  /** The assistant message just before `messageId` in its conversation, if any. */
  async previousAnswer(conversationId: string, messageId: string): Promise<MessageRecord | null> {
    return this.messages
      .findOne({
        conversationId: new Types.ObjectId(conversationId),
        role: 'assistant',
        _id: { $lt: new Types.ObjectId(messageId) },
      })
      .sort({ _id: -1 });
  }
}
