import { Types } from 'mongoose';
import type { ConversationModel } from '../conversations/conversation.model.js';
import type { MessageModel } from '../conversations/message.model.js';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import type { AnalyticsModels } from './analytics.model.js';
import { DAY_MS } from './calendar.js';
import {
  buildDays,
  CONVERSATION_FIELDS,
  dayKey,
  dayStartOf,
  MESSAGE_FIELDS,
  type RawConversation,
  type RawMessage,
} from './rollup-builder.js';
import type { DayRollup } from './tally.js';

type Models = AnalyticsModels & { Message: MessageModel; Conversation: ConversationModel };

/** A stored day; `slotTops` is there only when asked for. */
export type StoredDay = { day: Date } & Pick<DayRollup, 'slots' | 'tops'> & Partial<Pick<DayRollup, 'slotTops'>>;

export interface RollupBot {
  _id: Types.ObjectId;
  organizationId: Types.ObjectId;
}

/**
 * Per-bot, per-UTC-day rollups of the raw records, computed lazily: a bot's whole history the first time it is
 * asked for, then only the days whose records changed since (marked through `markChanged`). Every figure is
 * recomputed from the raw records, never adjusted in place, so a rollup cannot drift from them.
 */
export class AnalyticsRollups {
  constructor(private readonly models: Models) {}

  /** Records that raw records of a bot, created at `times`, changed. */
  async markChanged(chatbotId: string, times: Date[]): Promise<void> {
    await this.markDays(chatbotId, new Set(times.map((at) => dayStartOf(at.getTime()))));
  }

  /** Records that raw records of a bot created anywhere between `from` and `to` changed. */
  async markSpan(chatbotId: string, from: Date, to: Date): Promise<void> {
    const days = new Set<number>();
    for (let day = dayStartOf(from.getTime()); day <= to.getTime(); day += DAY_MS) days.add(day);
    await this.markDays(chatbotId, days);
  }

  private async markDays(chatbotId: string, days: Set<number>): Promise<void> {
    const id = new Types.ObjectId(chatbotId);
    const ops = [...days].map((day) => ({
      updateOne: {
        filter: { key: dayKey(id, day) },
        update: { $inc: { version: 1 }, $setOnInsert: { chatbotId: id, day: new Date(day) } },
        upsert: true,
      },
    }));
    if (ops.length === 0) return;
    try {
      await this.models.AnalyticsMark.bulkWrite(ops, { ordered: false });
    } catch (error) {
      // Two writers inserted the same day's mark at once: the other upsert made it, so bump it again.
      if (!isDuplicateKeyError(error)) throw error;
      await this.models.AnalyticsMark.bulkWrite(ops, { ordered: false });
    }
  }

  /** Removes a deleted bot's rollups and marks. */
  async deleteForChatbot(chatbotId: string): Promise<void> {
    const filter = { chatbotId: new Types.ObjectId(chatbotId) };
    await Promise.all([
      this.models.AnalyticsDay.deleteMany(filter),
      this.models.AnalyticsMark.deleteMany(filter),
      this.models.AnalyticsBuild.deleteMany(filter),
    ]);
  }

  /**
   * The stored rollups of the bots' UTC days overlapping [from, to), after bringing changed days up to date.
   * Days the range covers whole come without their per-quarter top lists, which only a partly covered day needs.
   */
  async daysOf(bots: RollupBot[], from: number, to: number): Promise<StoredDay[]> {
    await this.refresh(bots);
    const whole: string[] = [];
    const partial: string[] = [];
    for (const bot of bots) {
      for (let day = dayStartOf(from); day < to; day += DAY_MS) {
        (day >= from && day + DAY_MS <= to ? whole : partial).push(dayKey(bot._id, day));
      }
    }
    const find = (keys: string[], fields: string) =>
      keys.length === 0
        ? Promise.resolve([])
        : this.models.AnalyticsDay.find({ key: { $in: keys } }, fields).lean<StoredDay[]>();
    const [wholeDays, partialDays] = await Promise.all([
      find(whole, 'day slots tops'),
      find(partial, 'day slots slotTops tops'),
    ]);
    return [...wholeDays, ...partialDays];
  }

  /**
   * Recomputes what changed: all days of bots never built, and the marked days of the others. Marks are read
   * before the raw records, and removed only if unchanged since, so a write that lands during the
   * computation leaves its mark for the next one.
   */
  private async refresh(bots: RollupBot[]): Promise<void> {
    const ids = bots.map((bot) => bot._id);
    const startedAt = new Date();
    const [builds, marks] = await Promise.all([
      this.models.AnalyticsBuild.find({ chatbotId: { $in: ids } }, 'chatbotId').lean(),
      this.models.AnalyticsMark.find({ chatbotId: { $in: ids } }).lean(),
    ]);
    const built = new Set(builds.map((build) => build.chatbotId.toString()));
    const unbuilt = ids.filter((id) => !built.has(id.toString()));
    const marked = marks.filter((mark) => built.has(mark.chatbotId.toString()));
    if (unbuilt.length === 0 && marks.length === 0) return;

    const markedKeys = new Set(marked.map((mark) => mark.key));
    const spans = new Map<string, { chatbotId: Types.ObjectId; from: number; to: number }>();
    for (const mark of marked) {
      const span = spans.get(mark.chatbotId.toString());
      const day = mark.day.getTime();
      if (span) {
        span.from = Math.min(span.from, day);
        span.to = Math.max(span.to, day + DAY_MS);
      } else spans.set(mark.chatbotId.toString(), { chatbotId: mark.chatbotId, from: day, to: day + DAY_MS });
    }
    // One pass over each collection: the embedded engine scans for a range query however narrow it is.
    const filter = {
      $or: [
        ...(unbuilt.length > 0 ? [{ chatbotId: { $in: unbuilt } }] : []),
        ...[...spans.values()].map((span) => ({
          chatbotId: span.chatbotId,
          createdAt: { $gte: new Date(span.from), $lt: new Date(span.to) },
        })),
      ],
    };
    const unbuiltIds = new Set(unbuilt.map(String));
    const wanted = (record: { chatbotId: Types.ObjectId; createdAt: Date }) =>
      unbuiltIds.has(record.chatbotId.toString()) ||
      markedKeys.has(dayKey(record.chatbotId, dayStartOf(record.createdAt.getTime())));
    const [allMessages, allStarted] = await Promise.all([
      this.models.Message.find(filter, MESSAGE_FIELDS).lean<RawMessage[]>(),
      this.models.Conversation.find(filter, CONVERSATION_FIELDS).lean<RawConversation[]>(),
    ]);
    const messages = allMessages.filter(wanted);
    const conversationsStarted = allStarted.filter(wanted);
    const [conversationOf, questionOf] = await Promise.all([
      this.conversationsOf(messages, conversationsStarted),
      this.questionsOf(messages),
    ]);
    const rollups = buildDays({ messages, conversationsStarted, conversationOf, questionOf });
    // A marked day left without records is written empty, replacing what it held.
    for (const key of markedKeys) if (!rollups.has(key)) rollups.set(key, { slots: [], slotTops: [], tops: {} });

    const organizationOf = new Map(bots.map((bot) => [bot._id.toString(), bot.organizationId]));
    await Promise.all([...rollups].map(([key, rollup]) => this.writeDay(key, rollup, organizationOf, startedAt)));
    await Promise.all([
      ...marked.map((mark) => this.models.AnalyticsMark.deleteOne({ _id: mark._id, version: mark.version })),
      ...marks
        .filter((mark) => unbuiltIds.has(mark.chatbotId.toString()))
        .map((mark) => this.models.AnalyticsMark.deleteOne({ _id: mark._id, version: mark.version })),
      ...unbuilt.map((chatbotId) =>
        this.models.AnalyticsBuild.updateOne(
          { chatbotId },
          { $setOnInsert: { builtAt: startedAt } },
          { upsert: true },
        ).catch(ignoreDuplicateKey),
      ),
    ]);
  }

  /** Writes a day unless a computation that read the raw records later has already written it. */
  private async writeDay(
    key: string,
    rollup: DayRollup,
    organizationOf: Map<string, Types.ObjectId>,
    computedAt: Date,
  ): Promise<void> {
    const [chatbotId = '', day = ''] = key.split(':');
    await this.models.AnalyticsDay.updateOne(
      { key, computedAt: { $lt: computedAt } },
      {
        $set: { ...rollup, computedAt },
        $setOnInsert: {
          organizationId: organizationOf.get(chatbotId),
          chatbotId: new Types.ObjectId(chatbotId),
          day: new Date(`${day}T00:00:00Z`),
        },
      },
      { upsert: true },
    ).catch(ignoreDuplicateKey);
  }

  /** The conversations of the messages (those started in the period are already at hand). */
  private async conversationsOf(messages: RawMessage[], started: RawConversation[]) {
    const byId = new Map(started.map((conversation) => [conversation._id.toString(), conversation]));
    const missing = [...new Set(messages.map((message) => message.conversationId.toString()))].filter(
      (id) => !byId.has(id),
    );
    if (missing.length > 0) {
      const found = await this.models.Conversation.find(
        { _id: { $in: missing.map((id) => new Types.ObjectId(id)) } },
        CONVERSATION_FIELDS,
      ).lean<RawConversation[]>();
      for (const conversation of found) byId.set(conversation._id.toString(), conversation);
    }
    return (id: Types.ObjectId) => byId.get(id.toString());
  }

  /** The questions low-confidence answers reply to (usually among the messages read, else looked up by id). */
  private async questionsOf(messages: RawMessage[]) {
    const byId = new Map(
      messages.filter((message) => message.role === 'user').map((message) => [message._id.toString(), message.content]),
    );
    const missing = [
      ...new Set(
        messages.flatMap((message) =>
          message.role === 'assistant' && message.replyTo && !byId.has(message.replyTo.toString())
            ? [message.replyTo.toString()]
            : [],
        ),
      ),
    ];
    if (missing.length > 0) {
      const found = await this.models.Message.find(
        { _id: { $in: missing.map((id) => new Types.ObjectId(id)) } },
        '_id content',
      ).lean();
      for (const message of found) byId.set(message._id.toString(), message.content);
    }
    return (id: Types.ObjectId) => byId.get(id.toString()) ?? undefined;
  }
}

function ignoreDuplicateKey(error: unknown): void {
  if (!isDuplicateKeyError(error)) throw error;
}
