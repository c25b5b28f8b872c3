import { Types } from 'mongoose';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import type { AnalyticsModels } from './analytics.model.js';
import { DAY_MS } from './calendar.js';
import { BatchApplier } from './change-batch.js';
import { ChangeQueue, coalesceMs } from './change-queue.js';
import {
  addToUpdates,
  DAY_SHARDS,
  daysOfUpdates,
  type Contribution,
  type DayUpdate,
  type RawConversation,
  type RawMessage,
} from './contribution.js';
import { DayMarks } from './day-marks.js';
import { DayReader } from './day-reader.js';
import type { Logger, RecordSource, RollupBot, RollupSettings } from './rollup-inputs.js';
import {
  ignoreDuplicateKey,
  MAX_ATTEMPTS,
  questionText,
  RollupWriter,
  type Entries,
  type FactDoc,
} from './rollup-writer.js';
import type { StoredDay } from './stored-day.js';

/**
 * Per-bot, per-UTC-day rollups kept up to date as records change. Each change applies, with atomic updates,
 * the difference between what the changed records contributed and what they contribute now (kept per
 * conversation in `AnalyticsFact`), so an event delivered twice or out of order applies nothing more, and a
 * report reads only the rollups. A day is flagged while an update is under way; one left flagged (a crash
 * between the fact and the day update, a failed write) is recomputed from the raw records in the background.
 * History from before (or written behind the app's back) is rolled up by `backfill`, in the background at start.
 */
export class AnalyticsRollups {
  private timer: NodeJS.Timeout | null = null;
  /** Set by `stop`: a backfill under way stops between chunks (it starts over at the next start). */
  private stopping = false;
  private running: Promise<void> | null = null;
  private readonly runId = `${process.pid}-${new Types.ObjectId().toString()}`;
  private readonly marks: DayMarks;
  private readonly writer: RollupWriter;
  private readonly queue: ChangeQueue;
  private readonly reader: DayReader;

  constructor(
    private readonly models: AnalyticsModels,
    private readonly records: RecordSource,
    private readonly settings: RollupSettings,
    private readonly logger: Logger,
    private readonly allBots: () => Promise<RollupBot[]>,
  ) {
    this.marks = new DayMarks(
      models.AnalyticsMark,
      { lowerAfterMs: coalesceMs(settings), takeOverMs: Math.floor(settings.leaseMs / 4) },
      logger,
    );
    this.writer = new RollupWriter(models, this.marks, settings.dayShards ?? DAY_SHARDS);
    this.queue = new ChangeQueue(
      records,
      settings,
      new BatchApplier(models, records, this.writer, this.marks),
      this.marks,
    );
    this.reader = new DayReader(models);
  }

  /**
   * Rolls up bots never rolled up, applies again what runs that stopped without a clean stop may have left
   * out, and recomputes stopped updates, now and from time to time; returns at once.
   */
  start(): void {
    const beat = () =>
      this.models.AnalyticsRun.updateOne(
        { _id: this.runId },
        { $set: { heartbeatAt: new Date() }, $setOnInsert: { startedAt: new Date() } },
        { upsert: true },
      );
    const pass = async (first: boolean) => {
      try {
        if (first) {
          await beat();
          await this.backfill();
        }
        await this.recover();
        await this.reconcile();
        await this.models.AnalyticsRun.deleteMany({ stoppedAt: { $lt: new Date(Date.now() - 7 * DAY_MS) } });
      } catch (error) {
        this.logger.error({ err: error }, 'analytics rollups could not catch up; retrying later');
      }
    };
    const run = (first: boolean) => {
      this.running = pass(first).finally(() => {
        this.running = null;
      });
    };
    run(true);
    // The beat goes on while a long pass (a backfill) runs, so other servers never take this one for stopped.
    this.timer = setInterval(() => {
      beat().catch((error: unknown) => this.logger.error({ err: error }, 'analytics: heartbeat failed'));
      if (!this.running) run(false);
    }, this.settings.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    // Changes still waiting are applied now: a clean stop leaves nothing for `recover`.
    await this.settled();
    if (!this.timer) return;
    this.stopping = true;
    clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.settled();
    await this.models.AnalyticsRun.updateOne({ _id: this.runId }, { $set: { stoppedAt: new Date() } }).catch(
      (error: unknown) => this.logger.error({ err: error }, 'analytics: could not record a clean stop'),
    );
  }

  /** Applies every change still waiting and resolves once all under way are applied (see `ChangeQueue`). */
  settled(): Promise<void> {
    return this.queue.settled();
  }

  /** Resolves once the background pass under way (the backfill at start) has finished. */
  async idle(): Promise<void> {
    await this.running;
  }

  /**
   * Applies the current state of a conversation's records (the conversation and the messages named); resolves
   * once applied, together with the other changes announced about then (see `ChangeQueue.applyChange`).
   */
  applyChange(chatbotId: string, conversationId: string, messageIds: string[]): Promise<void> {
    return this.queue.applyChange(chatbotId, conversationId, messageIds);
  }

  /**
   * Leaves days of a bot flagged, as an update that stopped halfway does, so the reconciliation recomputes
   * them from the raw records: for a change that could not be applied at all (the database failed mid-way).
   */
  async flagDays(organizationId: string, chatbotId: string, times: Date[]): Promise<void> {
    const days = [...new Set(times.map((at) => at.toISOString().slice(0, 10)))];
    await this.writer.raise(
      { organizationId: new Types.ObjectId(organizationId), chatbotId: new Types.ObjectId(chatbotId) },
      days,
    );
  }

  /** Takes a deleted conversation's records out of the rollups. */
  async removeConversation(organizationId: string, chatbotId: string, conversationId: string): Promise<void> {
    const bot = { organizationId: new Types.ObjectId(organizationId), chatbotId: new Types.ObjectId(chatbotId) };
    // Changes applied here that may have found the conversation before its deletion are written first (they
    // never reject), so their fact is taken out below; those applied later find it deleted.
    await this.queue.batchesUnderWay();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const fact = await this.models.AnalyticsFact.findById(conversationId).lean<FactDoc>();
      if (!fact) return;
      const updates = new Map<string, DayUpdate>();
      for (const entry of Object.values(fact.e)) addToUpdates(updates, entry, -1);
      const days = daysOfUpdates(updates);
      await this.writer.raise(bot, days);
      const removed = await this.models.AnalyticsFact.deleteOne({ _id: fact._id, v: fact.v });
      if (removed.deletedCount === 0) {
        await this.writer.lower(bot.chatbotId, days);
        continue;
      }
      await this.writer.writeDays(bot, updates);
      await this.writer.lower(bot.chatbotId, days);
      return;
    }
    throw new Error(`analytics: conversation ${conversationId} kept changing while being removed`);
  }

  /** Removes a deleted bot's rollups. */
  async deleteForChatbot(chatbotId: string): Promise<void> {
    const filter = { chatbotId: new Types.ObjectId(chatbotId) };
    await Promise.all([
      this.models.AnalyticsDay.deleteMany(filter),
      this.models.AnalyticsFact.deleteMany(filter),
      this.models.AnalyticsMark.deleteMany(filter),
      this.models.AnalyticsBuild.deleteMany(filter),
    ]);
  }

  /**
   * Rolls up every record of the bots (all bots never rolled up when none are named) not already counted,
   * reading their raw records once: conversations without any fact are inserted in bulk and their days
   * updated once each; the others go through the same difference as a live change.
   */
  async backfill(chatbotIds?: string[]): Promise<void> {
    const built = new Set(
      (await this.models.AnalyticsBuild.find({ builtAt: { $ne: null } }, 'chatbotId').lean()).map((build) =>
        build.chatbotId.toString(),
      ),
    );
    const bots = (await this.allBots()).filter((bot) =>
      chatbotIds ? chatbotIds.includes(bot._id.toString()) : !built.has(bot._id.toString()),
    );
    for (const bot of bots) {
      if (this.stopping) return;
      const started = performance.now();
      const { conversations, messages } = await this.records.recordsOfBot(bot._id);
      const counted = await this.backfillRecords(bot, conversations, messages);
      if (this.stopping) return;
      await this.models.AnalyticsBuild.updateOne(
        { chatbotId: bot._id },
        { $set: { builtAt: new Date() } },
        { upsert: true },
      ).catch(ignoreDuplicateKey);
      if (counted > 0) {
        this.logger.info(
          { chatbotId: bot._id.toString(), conversations: counted, ms: Math.round(performance.now() - started) },
          'analytics: rolled up earlier history',
        );
      }
    }
  }

  /**
   * For each run that stopped beating (a lease ago) without a clean stop: applies again every record changed
   * from a poll before its last beat to two polls after (a record written in that window may have missed its
   * update). Applying is idempotent, so a record already counted changes nothing. Returns the runs recovered.
   */
  async recover(now = Date.now()): Promise<number> {
    const runs = await this.models.AnalyticsRun.find({
      _id: { $ne: this.runId },
      stoppedAt: null,
      heartbeatAt: { $lt: new Date(now - this.settings.leaseMs) },
    }).lean();
    for (const run of runs) {
      const beat = run.heartbeatAt.getTime();
      const { conversations, messages } = await this.records.recordsUpdatedBetween(
        new Date(beat - this.settings.pollMs),
        new Date(beat + 2 * this.settings.pollMs),
      );
      const ids = new Set([
        ...conversations.map((conversation) => conversation._id.toString()),
        ...messages.map((message) => message.conversationId.toString()),
      ]);
      for (const id of ids) {
        const forConversation = messages.filter((message) => message.conversationId.toString() === id);
        const [conversation] = await this.records.conversationsByIds([new Types.ObjectId(id)]);
        if (!conversation) continue;
        await this.applyChange(
          conversation.chatbotId.toString(),
          id,
          forConversation.map((message) => message._id.toString()),
        );
      }
      await this.models.AnalyticsRun.updateOne({ _id: run._id }, { $set: { stoppedAt: new Date(now) } });
      this.logger.info(
        { run: run._id, conversations: ids.size },
        'analytics: applied again what a stopped server may have left out',
      );
    }
    return runs.length;
  }

  /** Recomputes, from the raw records, every day whose update stopped halfway more than a lease ago. */
  async reconcile(now = Date.now()): Promise<number> {
    const marks = await this.models.AnalyticsMark.find({
      pending: { $ne: 0 },
      touchedAt: { $lt: new Date(now - this.settings.leaseMs) },
    }).lean();
    for (const mark of marks) await this.recomputeDay(mark);
    // Marks lowered to zero are left by live changes; a raise racing this delete upserts its mark again.
    await this.models.AnalyticsMark.deleteMany({
      pending: 0,
      touchedAt: { $lt: new Date(now - this.settings.leaseMs) },
    });
    return marks.length;
  }

  /** The stored rollups of the bots' UTC days overlapping [from, to) (see `DayReader.daysOf`). */
  daysOf(bots: RollupBot[], from: number, to: number): Promise<StoredDay[]> {
    return this.reader.daysOf(bots, from, to);
  }

  /** Forgets the days kept in memory (benches measure a report that reads every day in full). */
  forgetCachedDays(): void {
    this.reader.forgetCachedDays();
  }

  /** The wordings of questions (by hash) in these days (see `DayReader.wordingsOf`). */
  wordingsOf(
    days: StoredDay[],
    hashes: { qs: string[]; gaps: string[] },
  ): Promise<Record<'qs' | 'gaps', Map<string, { normalized: string; sample: string }>>> {
    return this.reader.wordingsOf(days, hashes);
  }

  private async backfillRecords(
    bot: RollupBot,
    conversations: RawConversation[],
    messages: RawMessage[],
  ): Promise<number> {
    const byId = new Map(messages.map((message) => [message._id.toString(), message]));
    const questionOf = questionText(byId);
    const messagesOf = new Map<string, RawMessage[]>();
    for (const message of messages) {
      const list = messagesOf.get(message.conversationId.toString()) ?? [];
      list.push(message);
      messagesOf.set(message.conversationId.toString(), list);
    }
    const existing = new Set(
      (await this.models.AnalyticsFact.find({ chatbotId: bot._id }, '_id').lean()).map((fact) => fact._id.toString()),
    );
    const fresh = conversations.filter((conversation) => !existing.has(conversation._id.toString()));
    const known = conversations.filter((conversation) => existing.has(conversation._id.toString()));
    const owner = { organizationId: bot.organizationId, chatbotId: bot._id };
    const CHUNK = 2_000;
    for (let at = 0; at < fresh.length && !this.stopping; at += CHUNK) {
      const chunk = fresh.slice(at, at + CHUNK);
      const facts = chunk.map((conversation) => {
        const e = this.writer.entriesOf(conversation, messagesOf.get(conversation._id.toString()) ?? [], questionOf);
        return { _id: conversation._id, chatbotId: bot._id, v: 1, e };
      });
      const days = new Set(facts.flatMap((fact) => Object.values(fact.e).map((entry) => entry.d)));
      await this.writer.raise(owner, [...days]);
      // Inserted only where no fact exists yet: a live change may have got there first.
      const result = await this.models.AnalyticsFact.collection.bulkWrite(
        facts.map((fact) => ({
          updateOne: {
            filter: { _id: fact._id },
            update: { $setOnInsert: { chatbotId: fact.chatbotId, v: fact.v, e: fact.e } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
      const inserted = new Set(Object.keys(result.upsertedIds ?? {}).map(Number));
      const updates = new Map<string, DayUpdate>();
      facts.forEach((fact, index) => {
        if (!inserted.has(index)) return known.push(chunk[index]!);
        for (const entry of Object.values(fact.e)) addToUpdates(updates, entry, 1);
      });
      await this.writer.writeDays(owner, updates);
      await this.writer.lower(bot._id, [...days]);
    }
    for (const conversation of known) {
      if (this.stopping) break;
      await this.writer.applyRecords(conversation, messagesOf.get(conversation._id.toString()) ?? [], questionOf);
    }
    return conversations.length;
  }

  /**
   * Recomputes one day of a bot from its raw records: the day's documents (each written only if no update landed
   * in it meanwhile) and the facts of that day's records, once every document was written. The flag is removed
   * only if nothing touched the day during the recomputation; otherwise it stays for the next pass.
   */
  private async recomputeDay(mark: {
    key: string;
    chatbotId: Types.ObjectId;
    organizationId: Types.ObjectId;
    day: Date;
    pending: number;
    touchedAt: Date;
  }): Promise<void> {
    const day = mark.day.toISOString().slice(0, 10);
    const docs = await this.models.AnalyticsDay.find({ chatbotId: mark.chatbotId, day: mark.day }, 'key rev').lean<
      Array<{ key: string; rev: number }>
    >();
    const { conversations: started, messages } = await this.records.recordsOfBot(mark.chatbotId, {
      from: mark.day,
      to: new Date(mark.day.getTime() + DAY_MS),
    });
    const conversationsById = new Map(started.map((conversation) => [conversation._id.toString(), conversation]));
    const missing = [...new Set(messages.map((message) => message.conversationId.toString()))].filter(
      (id) => !conversationsById.has(id),
    );
    for (const conversation of await this.records.conversationsByIds(missing.map((id) => new Types.ObjectId(id)))) {
      conversationsById.set(conversation._id.toString(), conversation);
    }
    const byId = new Map(messages.map((message) => [message._id.toString(), message]));
    const questions = messages.flatMap((message) =>
      message.replyTo && !byId.has(message.replyTo.toString()) ? [message.replyTo] : [],
    );
    for (const question of await this.records.messagesByIds(questions)) byId.set(question._id.toString(), question);
    const questionOf = questionText(byId);

    const messagesOf = new Map<string, RawMessage[]>();
    for (const message of messages) {
      const list = messagesOf.get(message.conversationId.toString()) ?? [];
      list.push(message);
      messagesOf.set(message.conversationId.toString(), list);
    }
    const startedIds = new Set(started.map((conversation) => conversation._id.toString()));
    const entriesOf = new Map<string, Entries>();
    for (const [id, conversation] of conversationsById) {
      const entries = this.writer.entriesOf(conversation, messagesOf.get(id) ?? [], questionOf);
      // A conversation counts on the day it started: of one started before, only its messages are of this day.
      if (!startedIds.has(id)) delete entries.c;
      entriesOf.set(id, entries);
    }
    const updates = new Map<string, DayUpdate>();
    for (const list of entriesOf.values()) for (const entry of Object.values(list)) addToUpdates(updates, entry, 1);
    // Every document of the day, stored or recomputed: the unsharded one from before has nothing recomputed (its
    // figures are now in the shards) and goes, as does a shard nothing falls in any more.
    const prefix = `${mark.chatbotId.toString()}:`;
    const revs = new Map(docs.map((doc) => [doc.key, doc.rev]));
    const keys = new Set([...revs.keys(), ...[...updates.keys()].map((doc) => prefix + doc)]);
    const written = await Promise.all(
      [...keys].map((key) => this.replaceDayDoc(mark, key, revs.get(key), updates.get(key.slice(prefix.length)))),
    );
    // An update landed in one of them meanwhile: the day stays flagged and is recomputed again.
    if (!written.every(Boolean)) return;

    // The facts of the day's records become what was just counted; entries of the day no longer there go.
    const facts = await this.models.AnalyticsFact.find({ chatbotId: mark.chatbotId }).lean<FactDoc[]>();
    const touched = new Set(entriesOf.keys());
    for (const fact of facts) {
      if (Object.values(fact.e).some((entry) => entry.d === day)) touched.add(fact._id.toString());
    }
    const factsById = new Map(facts.map((fact) => [fact._id.toString(), fact]));
    for (const conversationId of touched) {
      const stored = factsById.get(conversationId)?.e ?? {};
      const fresh = entriesOf.get(conversationId) ?? {};
      const $set: Record<string, Contribution> = {};
      const $unset: Record<string, ''> = {};
      for (const [key, entry] of Object.entries(stored)) if (entry.d === day && !fresh[key]) $unset[`e.${key}`] = '';
      for (const [key, entry] of Object.entries(fresh)) $set[`e.${key}`] = entry;
      await this.models.AnalyticsFact.updateOne(
        { _id: new Types.ObjectId(conversationId) },
        {
          ...(Object.keys($set).length > 0 ? { $set } : {}),
          ...(Object.keys($unset).length > 0 ? { $unset } : {}),
          $inc: { v: 1 },
          $setOnInsert: { chatbotId: mark.chatbotId },
        },
        { upsert: true },
      ).catch(ignoreDuplicateKey);
    }
    const cleared = await this.models.AnalyticsMark.deleteOne({
      key: mark.key,
      pending: mark.pending,
      touchedAt: mark.touchedAt,
    });
    // Something updated the day meanwhile: keep it flagged, so a quiet pass recomputes it again.
    if (cleared.deletedCount === 0)
      await this.models.AnalyticsMark.updateOne({ key: mark.key }, { $inc: { pending: 1 } });
  }

  /**
   * Writes one document of a recomputed day: its recomputed figures, or (none) its deletion; only if its `rev` is
   * still the one read before the recomputation (`undefined`: only if it still does not exist). Whether it was.
   */
  private async replaceDayDoc(
    mark: { chatbotId: Types.ObjectId; organizationId: Types.ObjectId; day: Date },
    key: string,
    rev: number | undefined,
    update: DayUpdate | undefined,
  ): Promise<boolean> {
    const days = this.models.AnalyticsDay.collection;
    if (!update) return rev === undefined || (await days.deleteOne({ key, rev })).deletedCount > 0;
    const fields: Record<string, unknown> = {};
    for (const source of [update.inc, update.min, update.set]) {
      for (const [path, value] of Object.entries(source)) setPath(fields, path, value);
    }
    const replaced = await days
      .replaceOne(
        { key, rev: rev ?? 0 },
        {
          key,
          organizationId: mark.organizationId,
          chatbotId: mark.chatbotId,
          day: mark.day,
          rev: (rev ?? 0) + 1,
          s: {},
          t: {},
          dt: {},
          wqs: {},
          wgaps: {},
          si: {},
          ...fields,
        },
        { upsert: rev === undefined },
      )
      .catch((error: unknown) => (isDuplicateKeyError(error) ? null : Promise.reject(error)));
    return Boolean(replaced && replaced.matchedCount + replaced.upsertedCount > 0);
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts.at(-1)!] = value;
}
