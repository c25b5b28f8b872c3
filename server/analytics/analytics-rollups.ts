import { Types } from 'mongoose';
import type { AnalyticsModels } from './analytics.model.js';
import { DAY_MS } from './calendar.js';
import { BatchApplier } from './change-batch.js';
import { ChangeQueue, coalesceMs } from './change-queue.js';
import { addToUpdates, DAY_SHARDS, daysOfUpdates, type DayUpdate } from './contribution.js';
import { DayMarks } from './day-marks.js';
import { DayReader } from './day-reader.js';
import { DayRecompute } from './day-recompute.js';
import { Backfill } from './rollup-backfill.js';
import type { Logger, RecordSource, RollupBot, RollupSettings } from './rollup-inputs.js';
import { MAX_ATTEMPTS, RollupWriter, type FactDoc } from './rollup-writer.js';
import type { StoredDay } from './stored-day.js';

/**
 * Per-bot, per-UTC-day rollups kept up to date as records change. Each change applies, with atomic updates,
 * the difference between what the changed records contributed and what they contribute now (kept per
 * conversation in `AnalyticsFact`), so an event delivered twice or out of order applies nothing more, and a
 * report reads only the rollups. A day is flagged while an update is under way; one left flagged (a crash
 * between the fact and the day update, a failed write) is recomputed from the raw records in the background.
 * History from before (or written behind the app's back) is rolled up by `backfill`, in the background at start.
 *
 * This class runs them (its start, its heartbeat, its clean stop) and is what the rest of the server calls;
 * the work is done by its parts: `ChangeQueue` and `BatchApplier` (live changes), `RollupWriter` (what every
 * change writes), `Backfill` (history), `DayRecompute` (the reconciliation) and `DayReader` (reports).
 */
export class AnalyticsRollups {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private readonly runId = `${process.pid}-${new Types.ObjectId().toString()}`;
  private readonly marks: DayMarks;
  private readonly writer: RollupWriter;
  private readonly queue: ChangeQueue;
  private readonly reader: DayReader;
  private readonly history: Backfill;
  private readonly recomputer: DayRecompute;

  constructor(
    private readonly models: AnalyticsModels,
    private readonly records: RecordSource,
    private readonly settings: RollupSettings,
    private readonly logger: Logger,
    allBots: () => Promise<RollupBot[]>,
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
    this.history = new Backfill(models, records, this.writer, logger, allBots);
    this.recomputer = new DayRecompute(models, records, this.writer, settings);
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
    this.history.stop();
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

  /**
   * Applies the changes this process holds (a finished answer lingers briefly to share a batch) and waits for
   * the batches under way: a report that follows a turn on the same server counts it.
   */
  applyWaiting(): Promise<void> {
    return this.queue.applyWaiting();
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

  /** Rolls up every record of the bots (all bots never rolled up when none are named) not already counted. */
  backfill(chatbotIds?: string[]): Promise<void> {
    return this.history.backfill(chatbotIds);
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
  reconcile(now = Date.now()): Promise<number> {
    return this.recomputer.reconcile(now);
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
}
