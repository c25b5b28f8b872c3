import { Types } from 'mongoose';
import type { ConversationModel } from '../conversations/conversation.model.js';
import type { MessageModel } from '../conversations/message.model.js';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import type { AnalyticsModels } from './analytics.model.js';
import { DAY_MS } from './calendar.js';
import { buildDays, dayKey, dayStartOf, type RawConversation, type RawMessage } from './rollup-builder.js';
import { RecordLoader } from './rollup-records.js';
import type { DayRollup } from './tally.js';

/** The ids of the records a stored day was computed from: messages created that day, conversations started. */
interface DayRecords {
  m: Types.ObjectId[];
  c: Types.ObjectId[];
}

const EMPTY_DAY: DayRollup = { slots: [], slotTops: [], tops: {} };

function recordsByDay(messages: RawMessage[], conversations: RawConversation[]): Map<string, DayRecords> {
  const days = new Map<string, DayRecords>();
  const of = (record: { chatbotId: Types.ObjectId; createdAt: Date }) => {
    const key = dayKey(record.chatbotId, dayStartOf(record.createdAt.getTime()));
    let day = days.get(key);
    if (!day) days.set(key, (day = { m: [], c: [] }));
    return day;
  };
  for (const message of messages) of(message).m.push(message._id);
  for (const conversation of conversations) of(conversation).c.push(conversation._id);
  return days;
}

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
  private readonly loader: RecordLoader;

  constructor(private readonly models: Models) {
    this.loader = new RecordLoader(models);
  }

  /** Records that these messages of a bot changed, and the conversation if it started with them. */
  async markChanged(
    chatbotId: string,
    change: { messages: Array<{ id: string; createdAt: Date }>; started: { id: string; createdAt: Date } | null },
  ): Promise<void> {
    const days = new Map<number, DayRecords>();
    const recordsOf = (at: Date) => {
      const day = dayStartOf(at.getTime());
      let records = days.get(day);
      if (!records) days.set(day, (records = { m: [], c: [] }));
      return records;
    };
    for (const message of change.messages) recordsOf(message.createdAt).m.push(new Types.ObjectId(message.id));
    if (change.started) recordsOf(change.started.createdAt).c.push(new Types.ObjectId(change.started.id));
    await this.markDays(chatbotId, days);
  }

  /** Records that raw records of a bot created anywhere between `from` and `to` changed. */
  async markSpan(chatbotId: string, from: Date, to: Date): Promise<void> {
    const days = new Map<number, DayRecords>();
    for (let day = dayStartOf(from.getTime()); day <= to.getTime(); day += DAY_MS) days.set(day, { m: [], c: [] });
    await this.markDays(chatbotId, days);
  }

  /** Bumps each day's mark, adding the ids of the records that changed (a deletion names none). */
  private async markDays(chatbotId: string, days: Map<number, DayRecords>): Promise<void> {
    const id = new Types.ObjectId(chatbotId);
    const ops = [...days].map(([day, records]) => ({
      updateOne: {
        filter: { key: dayKey(id, day) },
        update: {
          $inc: { version: 1 },
          $addToSet: { m: { $each: records.m }, c: { $each: records.c } },
          $setOnInsert: { chatbotId: id, day: new Date(day) },
        },
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
   * Recomputes what changed: all days of bots never built (one scan), and the marked days of the others, from
   * the records the day held plus those the marks name, looked up by id (no scan). Marks are read before the
   * raw records, and removed only if unchanged since, so a write that lands during the computation leaves its
   * mark for the next one.
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
    if (unbuilt.length === 0 && marks.length === 0) return;
    const marked = marks.filter((mark) => built.has(mark.chatbotId.toString()));
    const stored = await this.models.AnalyticsDay.find(
      { key: { $in: marked.map((mark) => mark.key) } },
      'key records',
    ).lean<Array<{ key: string; records?: DayRecords }>>();
    const records = new Map(stored.map((day) => [day.key, day.records]));
    // A day stored without its record ids (there are none before the first build) is read by a scan.
    const byScan = marked.filter((mark) => records.has(mark.key) && !records.get(mark.key));
    const byId = marked.filter((mark) => !byScan.includes(mark));

    const [scanned, found] = await Promise.all([
      this.loader.scan(unbuilt, byScan),
      this.loader.byIds(
        byId.flatMap((mark) => [...(records.get(mark.key)?.m ?? []), ...(mark.m ?? [])]),
        byId.flatMap((mark) => [...(records.get(mark.key)?.c ?? []), ...(mark.c ?? [])]),
      ),
    ]);
    const idDays = new Set(byId.map((mark) => mark.key));
    const inIdDay = (record: { chatbotId: Types.ObjectId; createdAt: Date }) =>
      idDays.has(dayKey(record.chatbotId, dayStartOf(record.createdAt.getTime())));
    const messages = [...scanned.messages, ...found.messages.filter(inIdDay)];
    const conversationsStarted = [...scanned.conversations, ...found.conversations.filter(inIdDay)];
    const { conversationOf, questionOf } = await this.loader.context(messages, [
      ...scanned.conversations,
      ...found.conversations,
    ]);
    const rollups = buildDays({ messages, conversationsStarted, conversationOf, questionOf });
    // A marked day left without records is written empty, replacing what it held.
    for (const mark of marked) if (!rollups.has(mark.key)) rollups.set(mark.key, EMPTY_DAY);
    const dayRecords = recordsByDay(messages, conversationsStarted);

    const organizationOf = new Map(bots.map((bot) => [bot._id.toString(), bot.organizationId]));
    await Promise.all(
      [...rollups].map(([key, rollup]) =>
        this.writeDay(key, { ...rollup, records: dayRecords.get(key) ?? { m: [], c: [] } }, organizationOf, startedAt),
      ),
    );
    await Promise.all([
      ...marks.map((mark) => this.models.AnalyticsMark.deleteOne({ _id: mark._id, version: mark.version })),
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
    rollup: DayRollup & { records: DayRecords },
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
}

function ignoreDuplicateKey(error: unknown): void {
  if (!isDuplicateKeyError(error)) throw error;
}
