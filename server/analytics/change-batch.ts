/**
 * Applying a batch of queued changes together (group commit): the changed records read at once, what they
 * contribute now, the days' marks raised in one write, each conversation's fact written atomically as its own
 * (new facts inserted in one bulk write), and one update per day document for all of them. A change the batch
 * cannot take (its fact holds a newer entry) goes the entry-by-entry way of `RollupWriter.applyRecords`.
 */
import { Types } from 'mongoose';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import { writeErrorsOf } from '../db/write-errors.js';
import type { AnalyticsModels } from './analytics.model.js';
import {
  addToUpdates,
  sameContribution,
  type DayUpdate,
  type RawConversation,
  type RawMessage,
} from './contribution.js';
import type { DayMarks } from './day-marks.js';
import type { RecordSource } from './rollup-inputs.js';
import type { Entries, FactDoc, RollupWriter } from './rollup-writer.js';

/** A change of one conversation waiting to be applied with others (see `ChangeQueue.applyChange`). */
export interface QueuedChange {
  chatbotId: string;
  conversationId: string;
  messageIds: Set<string>;
  /** Records as their writer just stored them, by id: not read back. */
  written: Map<string, RawConversation | RawMessage>;
  /** When it is applied at the latest (`Date.now()` time). */
  dueAt: number;
  /** Nobody waits for it: it rides along with any batch applied before `dueAt` (see `ChangeQueue.applyChange`). */
  lingering: boolean;
  waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }>;
}

/** A conversation's change ready to apply: its bot, the contributions of its records now and their days. */
interface ChangeToApply {
  change: QueuedChange;
  conversation: RawConversation;
  messages: RawMessage[];
  questionOf: (message: RawMessage) => string | undefined;
  bot: { organizationId: Types.ObjectId; chatbotId: Types.ObjectId };
  next: Entries;
  days: string[];
}

/** Conversations whose fact was written here that `writeFacts` remembers. */
const FACTS_REMEMBERED = 10_000;

/** Applies batches of queued changes (see the file's header). */
export class BatchApplier {
  /** Conversations whose fact this process wrote lately (see `writeFacts`). */
  private readonly factsWritten = new Set<string>();

  constructor(
    private readonly models: AnalyticsModels,
    private readonly records: RecordSource,
    private readonly writer: RollupWriter,
    private readonly marks: DayMarks,
  ) {}

  /** Applies queued changes together; each change's waiters learn how its own part went. Never rejects. */
  async applyBatch(changes: QueuedChange[]): Promise<void> {
    const settle = (change: QueuedChange, error?: unknown) => {
      for (const waiter of change.waiters) {
        if (error === undefined) waiter.resolve();
        else waiter.reject(error);
      }
    };
    let ready: ChangeToApply[];
    try {
      ready = await this.prepare(changes);
    } catch (error) {
      for (const change of changes) settle(change, error);
      return;
    }
    const applying = new Set(ready.map((item) => item.change));
    for (const change of changes) if (!applying.has(change)) settle(change);
    if (ready.length === 0) return;
    try {
      await this.marks.raise(ready.flatMap((item) => item.days.map((day) => ({ bot: item.bot, day }))));
    } catch (error) {
      for (const item of ready) settle(item.change, error);
      return;
    }
    const outcomes = await this.writeFacts(ready);
    const written = outcomes.filter((outcome) => outcome.error === undefined && outcome.before !== false);
    const notWritten = outcomes.filter((outcome) => !written.includes(outcome));
    const updates = new Map<string, { bot: ChangeToApply['bot']; days: Map<string, DayUpdate> }>();
    for (const { item, before } of written) {
      const key = item.bot.chatbotId.toString();
      let forBot = updates.get(key);
      if (!forBot) updates.set(key, (forBot = { bot: item.bot, days: new Map() }));
      const stored = (before as FactDoc | null)?.e ?? {};
      for (const [entryKey, entry] of Object.entries(item.next)) {
        const old = stored[entryKey];
        if (sameContribution(old, entry)) continue;
        if (old) addToUpdates(forBot.days, old, -1);
        addToUpdates(forBot.days, entry, 1);
      }
    }
    // A failure from here on leaves the written facts' days flagged: the reconciliation recomputes them.
    let daysError: unknown;
    try {
      await Promise.all([...updates.values()].map(({ bot, days }) => this.writer.writeDays(bot, days)));
    } catch (error) {
      daysError = error;
    }
    const lowered = daysError === undefined ? outcomes : notWritten;
    // Written with the next change's raise, or shortly (see `DayMarks`): the update is done either way.
    this.marks.lowerSoon(
      lowered.flatMap(({ item }) => item.days.map((day) => ({ chatbotId: item.bot.chatbotId, day }))),
    );
    for (const { item } of written) settle(item.change, daysError);
    // The fact holds an entry newer than this snapshot (a slower event): the entry-by-entry way; else its failure.
    await Promise.all(
      notWritten.map(async ({ item, error }) => {
        if (error !== undefined) return settle(item.change, error);
        try {
          await this.writer.applyRecords(item.conversation, item.messages, item.questionOf, false);
          settle(item.change);
        } catch (failure) {
          settle(item.change, failure);
        }
      }),
    );
  }

  /** The changes' records (the conversations read, messages announced as written not) and what they contribute now. */
  private async prepare(changes: QueuedChange[]): Promise<ChangeToApply[]> {
    // A conversation deleted meanwhile counts nothing, even when its records were announced as written: it is
    // read back (one read for the batch) unless its owner knows no deletion of it started since it was written.
    const known = new Map<string, RawConversation>();
    for (const change of changes) {
      const written = change.written.get(change.conversationId) as RawConversation | undefined;
      if (written && this.records.mayBeDeletedSince?.(written) === false) known.set(change.conversationId, written);
    }
    const conversationIds = [...new Set(changes.map((change) => change.conversationId))]
      .filter((id) => !known.has(id))
      .map((id) => new Types.ObjectId(id));
    const messageIds = changes.flatMap((change) =>
      [...change.messageIds].filter((id) => !change.written.has(id)).map((id) => new Types.ObjectId(id)),
    );
    const [conversations, messages] = await Promise.all([
      this.records.conversationsByIds(conversationIds),
      this.records.messagesByIds(messageIds),
    ]);
    const read = new Map<string, RawConversation | RawMessage>(known);
    for (const record of [...conversations, ...messages]) read.set(record._id.toString(), record);
    const recordOf = (change: QueuedChange, id: string) => change.written.get(id) ?? read.get(id);
    // The questions of answers, for the gap's wording: from the same announcement when there, else read.
    const wanted = changes.flatMap((change) =>
      [...change.messageIds].flatMap((id) => {
        const message = recordOf(change, id) as RawMessage | undefined;
        const question = message?.role === 'assistant' ? message.replyTo?.toString() : undefined;
        return question && !recordOf(change, question) ? [new Types.ObjectId(question)] : [];
      }),
    );
    for (const question of await this.records.messagesByIds(wanted)) read.set(question._id.toString(), question);
    const ready: ChangeToApply[] = [];
    for (const change of changes) {
      const conversation = read.get(change.conversationId) as RawConversation | undefined;
      if (!conversation || conversation.chatbotId.toString() !== change.chatbotId) continue;
      const changed = [...change.messageIds]
        .map((id) => recordOf(change, id) as RawMessage | undefined)
        .filter((message): message is RawMessage => Boolean(message?.conversationId.equals(conversation._id)));
      const questionOf = (message: RawMessage) => {
        if (!message.replyTo) return undefined;
        const question = recordOf(change, message.replyTo.toString()) as RawMessage | undefined;
        return question?.content ?? undefined;
      };
      const next = this.writer.entriesOf(conversation, changed, questionOf);
      ready.push({
        change,
        conversation,
        messages: changed,
        questionOf,
        bot: { organizationId: conversation.organizationId, chatbotId: conversation.chatbotId },
        next,
        days: [...new Set(Object.values(next).map((entry) => entry.d))],
      });
    }
    return ready;
  }

  /**
   * Writes the facts of a batch's changes, each as `writeFact` does, all at once. The facts of conversations
   * announced with no message counted yet or only their first (a conversation a turn starts is written with its
   * first message counted), of which this process wrote no fact, are most likely new: they are inserted
   * together in one bulk write, each only where none exists (nothing stored before it); one found existing goes
   * the one-by-one way.
   */
  private async writeFacts(
    ready: ChangeToApply[],
  ): Promise<Array<{ item: ChangeToApply; before: FactDoc | null | false | undefined; error: unknown }>> {
    const isNew = (item: ChangeToApply) => {
      const conversation = item.change.written.get(item.change.conversationId) as { messageCount?: number } | undefined;
      const counted = conversation?.messageCount;
      return counted !== undefined && counted <= 1 && !this.factsWritten.has(item.change.conversationId);
    };
    const fresh = ready.filter(isNew);
    const inserted = await this.insertFacts(fresh);
    const outcomes = await Promise.all(
      ready.map(async (item) => {
        const insert = inserted.get(item);
        if (insert === 'inserted') return { item, before: null, error: undefined as unknown };
        if (insert !== undefined && insert !== 'exists') return { item, before: undefined, error: insert.error };
        // Each conversation's fact is read and written in one atomic update.
        return this.writeFact(item).then(
          (before) => ({ item, before, error: undefined as unknown }),
          (error: unknown) => ({ item, before: undefined, error }),
        );
      }),
    );
    for (const { item, before, error } of outcomes) {
      if (error === undefined && before !== false) this.rememberFact(item.change.conversationId);
    }
    return outcomes;
  }

  /**
   * Inserts facts in one unordered bulk write, each only where none exists: for each, whether it was inserted,
   * found existing (nothing written), or failed.
   */
  private async insertFacts(
    items: ChangeToApply[],
  ): Promise<Map<ChangeToApply, 'inserted' | 'exists' | { error: unknown }>> {
    const outcomes = new Map<ChangeToApply, 'inserted' | 'exists' | { error: unknown }>();
    if (items.length === 0) return outcomes;
    const ops = items.map((item) => ({
      updateOne: {
        filter: { _id: item.conversation._id },
        update: { $setOnInsert: { chatbotId: item.bot.chatbotId, v: 1, e: item.next } },
        upsert: true,
      },
    }));
    let upserted: Record<number, unknown> | undefined;
    const failed = new Map<number, unknown>();
    try {
      upserted = (await this.models.AnalyticsFact.collection.bulkWrite(ops, { ordered: false })).upsertedIds;
    } catch (error) {
      const writeErrors = writeErrorsOf(error);
      const result = (error as { result?: { upsertedIds?: Record<number, unknown> } }).result;
      // Without an answer for each fact (a lost connection names none), none is known written or not: each fails
      // (its days stay flagged).
      if (!writeErrors || !result) {
        for (const item of items) outcomes.set(item, { error });
        return outcomes;
      }
      upserted = result.upsertedIds;
      // Two writers inserted the same fact at once: the loser's is found existing.
      for (const write of writeErrors) failed.set(write.index, isDuplicateKeyError(write) ? 'exists' : { error });
    }
    items.forEach((item, index) => {
      const failure = failed.get(index);
      if (failure !== undefined) outcomes.set(item, failure as 'exists' | { error: unknown });
      else outcomes.set(item, upserted && index in upserted ? 'inserted' : 'exists');
    });
    return outcomes;
  }

  /** Remembers, for `writeFacts`, a conversation whose fact this process wrote (the latest few thousand). */
  private rememberFact(conversationId: string): void {
    this.factsWritten.delete(conversationId);
    this.factsWritten.add(conversationId);
    if (this.factsWritten.size > FACTS_REMEMBERED) this.factsWritten.delete(this.factsWritten.values().next().value!);
  }

  /**
   * Writes every entry of a change into its conversation's fact, provided none stored is newer, in one atomic
   * update returning the fact as it was just before (so concurrent writers each apply exactly their own
   * change); false, having written nothing, when a stored entry is newer (an older snapshot).
   */
  private async writeFact(item: ChangeToApply): Promise<FactDoc | null | false> {
    try {
      return (await this.models.AnalyticsFact.collection.findOneAndUpdate(
        {
          _id: item.conversation._id,
          $and: Object.entries(item.next).map(([key, entry]) => ({
            $or: [{ [`e.${key}`]: { $exists: false } }, { [`e.${key}.u`]: { $lte: entry.u } }],
          })),
        },
        {
          $set: Object.fromEntries(Object.entries(item.next).map(([key, entry]) => [`e.${key}`, entry])),
          $inc: { v: 1 },
          $setOnInsert: { chatbotId: item.bot.chatbotId },
        },
        { upsert: true, returnDocument: 'before' },
      )) as FactDoc | null;
    } catch (error) {
      // The fact exists with an entry newer than this snapshot: nothing was written.
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
  }
}
