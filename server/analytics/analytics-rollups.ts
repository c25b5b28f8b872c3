import { Types } from 'mongoose';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import { writeErrorsOf } from '../db/write-errors.js';
import type { AnalyticsModels } from './analytics.model.js';
import { DAY_MS } from './calendar.js';
import { DayMarks } from './day-marks.js';
import {
  addToUpdates,
  conversationContribution,
  DAY_SHARDS,
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
import { DayReader } from './day-reader.js';
import type { Logger, RecordSource, RollupBot, RollupSettings } from './rollup-inputs.js';
import type { StoredDay } from './stored-day.js';

/** A change of one conversation waiting to be applied with others (see `applyChange`). */
interface QueuedChange {
  chatbotId: string;
  conversationId: string;
  messageIds: Set<string>;
  /** Records as their writer just stored them, by id: not read back. */
  written: Map<string, RawConversation | RawMessage>;
  /** When it is applied at the latest (`Date.now()` time). */
  dueAt: number;
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

type Entries = Record<string, Contribution>;
type FactDoc = { _id: Types.ObjectId; v: number; e: Entries };

const MAX_ATTEMPTS = 20;
/** Conversations whose fact was written here that `writeFacts` remembers. */
const FACTS_REMEMBERED = 10_000;
const questionText = (messages: Map<string, RawMessage>) => (message: RawMessage) =>
  message.replyTo ? (messages.get(message.replyTo.toString())?.content ?? undefined) : undefined;

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
  private readonly reader: DayReader;
  /** Changes waiting to be applied together, by bot and conversation id (see `applyChange`). */
  private readonly queued = new Map<string, QueuedChange>();
  private readonly batches = new Set<Promise<void>>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushTimerAt = Infinity;
  private flushImmediate: NodeJS.Immediate | null = null;
  private readonly marks: DayMarks;
  /** Conversations whose fact this process wrote lately (see `writeFacts`). */
  private readonly factsWritten = new Set<string>();
  private readonly shards: number;

  constructor(
    private readonly models: AnalyticsModels,
    private readonly records: RecordSource,
    private readonly settings: RollupSettings,
    private readonly logger: Logger,
    private readonly allBots: () => Promise<RollupBot[]>,
  ) {
    this.reader = new DayReader(models);
    this.shards = settings.dayShards ?? DAY_SHARDS;
    this.marks = new DayMarks(
      models.AnalyticsMark,
      { lowerAfterMs: this.coalesceMs(), takeOverMs: Math.floor(settings.leaseMs / 4) },
      logger,
    );
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

  /** Applies every change still waiting (see `applyChange`) and resolves once all under way are applied. */
  async settled(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.flushTimerAt = Infinity;
    await this.flush(true);
    while (this.batches.size > 0) await Promise.all([...this.batches]);
    await this.marks.flush();
  }

  /** Resolves once the background pass under way (the backfill at start) has finished. */
  async idle(): Promise<void> {
    await this.running;
  }

  /**
   * Applies the current state of a conversation's records (the conversation and the messages named); resolves
   * once applied. Changes announced in the same tick are applied together (group commit): their records read
   * at once, the days' marks raised and lowered in one write each, each conversation's fact updated atomically
   * as its own, and one update per day for all of them. A change whose writer announces another shortly (a
   * turn's question, before its answer) waits up to `coalesceMs` for it, so the two are applied as one; that is
   * well within a poll, so one a crash leaves waiting is among the records `recover` applies again.
   */
  applyChange(chatbotId: string, conversationId: string, messageIds: string[]): Promise<void> {
    // Read synchronously: the announcement offers its records only while it is being published.
    const announced = this.records.announced?.(conversationId);
    const now = Date.now();
    const key = `${chatbotId}:${conversationId}`;
    let change = this.queued.get(key);
    if (!change) {
      change = { chatbotId, conversationId, messageIds: new Set(), written: new Map(), dueAt: Infinity, waiters: [] };
      this.queued.set(key, change);
    }
    for (const id of messageIds) {
      change.messageIds.add(id);
      // A record named again without its stored state is read back, never taken from an older announcement.
      if (!announced?.records.has(id)) change.written.delete(id);
    }
    for (const [id, record] of announced?.records ?? []) change.written.set(id, record as RawConversation | RawMessage);
    change.dueAt = Math.min(change.dueAt, announced?.followUp ? now + this.coalesceMs() : now);
    const done = new Promise<void>((resolve, reject) => change.waiters.push({ resolve, reject }));
    this.scheduleFlush(change.dueAt);
    return done;
  }

  /**
   * How long a change waits for its writer's next one, and a day mark for its lowering to be written: well
   * within a poll (see `applyChange`) and a lease (see `DayMarks`), at most 1 s.
   */
  private coalesceMs(): number {
    return Math.min(1_000, Math.floor(this.settings.pollMs / 4), Math.floor(this.settings.leaseMs / 4));
  }

  /** Applies the queued changes due by `dueAt` then (at the next turn of the event loop when already due). */
  private scheduleFlush(dueAt: number): void {
    const wait = dueAt - Date.now();
    if (wait <= 0) {
      this.flushImmediate ??= setImmediate(() => {
        this.flushImmediate = null;
        this.flush(false);
      });
      return;
    }
    if (this.flushTimer && this.flushTimerAt <= dueAt) return;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimerAt = dueAt;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flushTimerAt = Infinity;
      this.flush(false);
    }, wait);
    this.flushTimer.unref();
  }

  /** Applies, as one batch, every queued change that is due (every one when `all`); reschedules the rest. */
  private flush(all: boolean): Promise<void> {
    const now = Date.now();
    const due: QueuedChange[] = [];
    let next = Infinity;
    for (const [id, change] of this.queued) {
      if (all || change.dueAt <= now) {
        due.push(change);
        this.queued.delete(id);
      } else next = Math.min(next, change.dueAt);
    }
    if (next < Infinity) this.scheduleFlush(next);
    if (due.length === 0) return Promise.resolve();
    const batch = this.applyBatch(due).finally(() => this.batches.delete(batch));
    this.batches.add(batch);
    return batch;
  }

  /** Applies queued changes together; each change's waiters learn how its own part went. Never rejects. */
  private async applyBatch(changes: QueuedChange[]): Promise<void> {
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
      await Promise.all([...updates.values()].map(({ bot, days }) => this.writeDays(bot, days)));
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
          await this.applyRecords(item.conversation, item.messages, item.questionOf, false);
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
      const next = this.entriesOf(conversation, changed, questionOf);
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

  /**
   * Leaves days of a bot flagged, as an update that stopped halfway does, so the reconciliation recomputes
   * them from the raw records: for a change that could not be applied at all (the database failed mid-way).
   */
  async flagDays(organizationId: string, chatbotId: string, times: Date[]): Promise<void> {
    const days = [...new Set(times.map((at) => at.toISOString().slice(0, 10)))];
    await this.raise(
      { organizationId: new Types.ObjectId(organizationId), chatbotId: new Types.ObjectId(chatbotId) },
      days,
    );
  }

  /** Takes a deleted conversation's records out of the rollups. */
  async removeConversation(organizationId: string, chatbotId: string, conversationId: string): Promise<void> {
    const bot = { organizationId: new Types.ObjectId(organizationId), chatbotId: new Types.ObjectId(chatbotId) };
    // Changes applied here that may have found the conversation before its deletion are written first (they
    // never reject), so their fact is taken out below; those applied later find it deleted.
    await Promise.all([...this.batches]);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const fact = await this.models.AnalyticsFact.findById(conversationId).lean<FactDoc>();
      if (!fact) return;
      const updates = new Map<string, DayUpdate>();
      for (const entry of Object.values(fact.e)) addToUpdates(updates, entry, -1);
      const days = daysOfUpdates(updates);
      await this.raise(bot, days);
      const removed = await this.models.AnalyticsFact.deleteOne({ _id: fact._id, v: fact.v });
      if (removed.deletedCount === 0) {
        await this.lower(bot.chatbotId, days);
        continue;
      }
      await this.writeDays(bot, updates);
      await this.lower(bot.chatbotId, days);
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

  /** What a conversation and these of its messages contribute now, each in the conversation's shard of its day. */
  private entriesOf(
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
  private async applyRecords(
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
        const e = this.entriesOf(conversation, messagesOf.get(conversation._id.toString()) ?? [], questionOf);
        return { _id: conversation._id, chatbotId: bot._id, v: 1, e };
      });
      const days = new Set(facts.flatMap((fact) => Object.values(fact.e).map((entry) => entry.d)));
      await this.raise(owner, [...days]);
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
      await this.writeDays(owner, updates);
      await this.lower(bot._id, [...days]);
    }
    for (const conversation of known) {
      if (this.stopping) break;
      await this.applyRecords(conversation, messagesOf.get(conversation._id.toString()) ?? [], questionOf);
    }
    return conversations.length;
  }

  /**
   * Applies day updates (by day document, see `addToUpdates`) in one write: one atomic update per document,
   * creating it when it is the first.
   */
  private async writeDays(
    bot: { organizationId: Types.ObjectId; chatbotId: Types.ObjectId },
    updates: Map<string, DayUpdate>,
  ): Promise<void> {
    const ops = [...updates]
      .filter(([, update]) => !isEmptyUpdate(update))
      .map(([doc, update]) => ({
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
      }));
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
  private async raise(bot: { organizationId: Types.ObjectId; chatbotId: Types.ObjectId }, days: string[]) {
    await this.marks.raise(days.map((day) => ({ bot, day })));
  }

  /** The update of these days is done. */
  private async lower(chatbotId: Types.ObjectId, days: string[]) {
    await this.marks.lower(days.map((day) => ({ chatbotId, day })));
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
      const entries = this.entriesOf(conversation, messagesOf.get(id) ?? [], questionOf);
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

function ignoreDuplicateKey(error: unknown): void {
  if (!isDuplicateKeyError(error)) throw error;
}
