/**
 * What every way of changing the rollups shares: what a conversation's records contribute (its fact's entries),
 * day updates written to the day documents, the days' marks raised and lowered around an update, and applying one
 * conversation's records on their own, entry by entry (the way a change goes when a batch cannot take it, and a
 * backfill's for conversations already counted).
 */
import type { Types } from 'mongoose';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import { writeErrorsOf } from '../db/write-errors.js';
import type { AnalyticsModels } from './analytics.model.js';
import type { DayMarks } from './day-marks.js';
import {
  addToUpdates,
  conversationContribution,
  daysOfUpdates,
  isEmptyUpdate,
  messageContribution,
  sameContribution,
  countedAs,
  type Contribution,
  type DayUpdate,
  type RawConversation,
  type RawMessage,
} from './contribution.js';

/** A conversation's fact: what each of its records contributes, by entry (see `AnalyticsFact`). */
export type Entries = Record<string, Contribution>;
export type FactDoc = { _id: Types.ObjectId; v: number; e: Entries };

export const MAX_ATTEMPTS = 20;
/** The text of the question a message answers, when it is among these messages. */
/** Messages grouped by their conversation's id. */
export function messagesByConversation(messages: RawMessage[]): Map<string, RawMessage[]> {
  const byConversation = new Map<string, RawMessage[]>();
  for (const message of messages) {
    const list = byConversation.get(message.conversationId.toString()) ?? [];
    list.push(message);
    byConversation.set(message.conversationId.toString(), list);
  }
  return byConversation;
}

export const questionText = (messages: Map<string, RawMessage>) => (message: RawMessage) =>
  message.replyTo ? (messages.get(message.replyTo.toString())?.content ?? undefined) : undefined;

/** Writes contributions into facts and days for every way of changing the rollups (see the file's header). */
export class RollupWriter {
  constructor(
    private readonly models: AnalyticsModels,
    private readonly marks: DayMarks,
    private readonly shards: number,
  ) {}

  /** What a conversation and these of its messages contribute now, each in the conversation's shard of its day. */
  entriesOf(
    conversation: RawConversation,
    messages: RawMessage[],
    questionOf: (message: RawMessage) => string | undefined,
  ): Entries {
    const counted = countedAs(conversation, this.shards);
    const entries: Entries = { c: conversationContribution(conversation, counted.shard) };
    for (const message of messages) {
      entries[`m${message._id.toString()}`] = messageContribution(message, conversation, questionOf(message), counted);
    }
    return entries;
  }

  /**
   * Applies the difference between what these records of one conversation contributed and what they
   * contribute now. The fact document is changed only if no other writer changed it since it was read (else
   * the whole is read again), and the days are flagged while their update is under way.
   */
  async applyRecords(
    conversation: RawConversation,
    messages: RawMessage[],
    questionOf: (message: RawMessage) => string | undefined,
    tryAtOnce = true,
  ): Promise<void> {
    const next = this.entriesOf(conversation, messages, questionOf);
    const bot = { organizationId: conversation.organizationId, chatbotId: conversation.chatbotId };
    if (tryAtOnce && (await this.applyAtOnce(bot, conversation._id, next))) return;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const fact = await this.models.AnalyticsFact.findById(conversation._id).lean<FactDoc>();
      const stored = fact?.e ?? {};
      const updates = new Map<string, DayUpdate>();
      const set: Entries = {};
      for (const [key, entry] of Object.entries(next)) {
        const old = stored[key];
        // An older snapshot of a record (a slow event, a backfill that read before a change) changes nothing.
        if (old && entry.u < old.u) continue;
        if (sameContribution(old, entry)) continue;
        if (old) addToUpdates(updates, old, -1);
        addToUpdates(updates, entry, 1);
        set[key] = entry;
      }
      if (Object.keys(set).length === 0) return;
      const days = daysOfUpdates(updates);
      await this.raise(bot, days);
      let won: boolean;
      if (!fact) {
        won = await this.models.AnalyticsFact.create({ _id: conversation._id, chatbotId: bot.chatbotId, v: 1, e: set })
          .then(() => true)
          .catch((error: unknown) => {
            if (isDuplicateKeyError(error)) return false;
            throw error;
          });
      } else {
        const $set = Object.fromEntries(Object.entries(set).map(([key, entry]) => [`e.${key}`, entry]));
        won =
          (await this.models.AnalyticsFact.updateOne({ _id: fact._id, v: fact.v }, { $set, $inc: { v: 1 } }))
            .matchedCount > 0;
      }
      if (!won) {
        await this.lower(bot.chatbotId, days);
        continue;
      }
      // A failure from here on leaves the days flagged: the reconciliation recomputes them.
      await this.writeDays(bot, updates);
      await this.lower(bot.chatbotId, days);
      return;
    }
    throw new Error(`analytics: conversation ${conversation._id.toString()} kept changing while being applied`);
  }

  /**
   * The usual case of `applyRecords` in one read-and-write of the fact: the days of the records (a record's
   * day never changes) are flagged, then every entry is written, provided none stored is newer, and the
   * difference applied is taken from the fact as it was just before (returned by the same atomic update), so
   * concurrent writers each apply exactly their own change. Returns false, having changed nothing, when a
   * stored entry is newer (an older snapshot): `applyRecords` then goes the entry-by-entry way.
   */
  private async applyAtOnce(
    bot: { organizationId: Types.ObjectId; chatbotId: Types.ObjectId },
    conversationId: Types.ObjectId,
    next: Entries,
  ): Promise<boolean> {
    const days = [...new Set(Object.values(next).map((entry) => entry.d))];
    await this.raise(bot, days);
    let before: FactDoc | null;
    try {
      before = (await this.models.AnalyticsFact.collection.findOneAndUpdate(
        {
          _id: conversationId,
          $and: Object.entries(next).map(([key, entry]) => ({
            $or: [{ [`e.${key}`]: { $exists: false } }, { [`e.${key}.u`]: { $lte: entry.u } }],
          })),
        },
        {
          $set: Object.fromEntries(Object.entries(next).map(([key, entry]) => [`e.${key}`, entry])),
          $inc: { v: 1 },
          $setOnInsert: { chatbotId: bot.chatbotId },
        },
        { upsert: true, returnDocument: 'before' },
      )) as FactDoc | null;
    } catch (error) {
      await this.lower(bot.chatbotId, days);
      // The fact exists with an entry newer than this snapshot: nothing was written.
      if (isDuplicateKeyError(error)) return false;
      throw error;
    }
    // A failure from here on leaves the days flagged: the reconciliation recomputes them.
    const stored = before?.e ?? {};
    const updates = new Map<string, DayUpdate>();
    for (const [key, entry] of Object.entries(next)) {
      const old = stored[key];
      if (sameContribution(old, entry)) continue;
      if (old) addToUpdates(updates, old, -1);
      addToUpdates(updates, entry, 1);
    }
    await this.writeDays(bot, updates);
    await this.lower(bot.chatbotId, days);
    return true;
  }

  /**
   * Applies day updates (by day document, see `addToUpdates`) in one write: one atomic update per document,
   * creating it when it is the first.
   */
  async writeDays(
    bot: { organizationId: Types.ObjectId; chatbotId: Types.ObjectId },
    updates: Map<string, DayUpdate>,
  ): Promise<void> {
    const ops = [...updates]
      .filter(([, update]) => !isEmptyUpdate(update))
      .map(([doc, update]) => dayWrite(bot, doc, update));
    if (ops.length === 0) return;
    const write = (list: typeof ops) => this.models.AnalyticsDay.collection.bulkWrite(list, { ordered: false });
    try {
      await write(ops);
    } catch (error) {
      // Two first updates of a document raced to create it: the losers' updates (and only they) now find it.
      const refused = writeErrorsOf(error);
      if (!refused?.every(isDuplicateKeyError)) throw error;
      await write(refused.map((refusal) => ops[refusal.index]!));
    }
  }

  /** Flags days as being updated (see `DayMarks`). */
  async raise(bot: { organizationId: Types.ObjectId; chatbotId: Types.ObjectId }, days: string[]) {
    await this.marks.raise(days.map((day) => ({ bot, day })));
  }

  /** The update of these days is done. */
  async lower(chatbotId: Types.ObjectId, days: string[]) {
    await this.marks.lower(days.map((day) => ({ chatbotId, day })));
  }
}

/**
 * One day document's update in a bulk write: the counters added atomically, its revision raised, the earliest wordings
 * and the source details kept, the document created by the first.
 */
export function dayWrite(
  bot: { organizationId: Types.ObjectId; chatbotId: Types.ObjectId },
  doc: string,
  update: DayUpdate,
) {
  return {
    updateOne: {
      filter: { key: `${bot.chatbotId.toString()}:${doc}` },
      update: {
        $inc: { ...update.inc, rev: 1 },
        ...(Object.keys(update.min).length > 0 ? { $min: update.min } : {}),
        ...(Object.keys(update.set).length > 0 ? { $set: update.set } : {}),
        $setOnInsert: {
          organizationId: bot.organizationId,
          chatbotId: bot.chatbotId,
          day: new Date(`${update.day}T00:00:00Z`),
        },
      },
      upsert: true,
    },
  };
}

export function ignoreDuplicateKey(error: unknown): void {
  if (!isDuplicateKeyError(error)) throw error;
}
