/**
 * The queue of announced changes waiting to be applied together: a change is queued by bot and conversation,
 * merged with later changes of the same conversation, and handed to `BatchApplier` with every other change due
 * at the same time (at the next turn of the event loop, or up to `coalesceMs` later when its writer announces
 * another change shortly, or up to `lingerMs` later, riding along with any batch before, when nobody waits for
 * it). Also how long a change waits, which the day marks' timing follows.
 */
import type { RawConversation, RawMessage } from './contribution.js';
import type { DayMarks } from './day-marks.js';
import type { BatchApplier, QueuedChange } from './change-batch.js';
import type { RecordSource, RollupSettings } from './rollup-inputs.js';

/**
 * How long a change waits for its writer's next one, and a day mark for its lowering to be written: well
 * within a poll (see `applyChange`) and a lease (see `DayMarks`), at most 1 s.
 */
export function coalesceMs(settings: RollupSettings): number {
  return Math.min(1_000, Math.floor(settings.pollMs / 4), Math.floor(settings.leaseMs / 4));
}

/**
 * How long a change nobody waits for (a finished answer) may wait for others to be applied with: under load the
 * answers of this long share one batch (one fact write, one update per day document touched) rather than each
 * event loop turn's few writing their own. Within `coalesceMs`, so a crash leaves it among what `recover` applies.
 */
export function lingerMs(settings: RollupSettings): number {
  return Math.min(100, coalesceMs(settings));
}

/** Changes waiting to be applied together, and the batches under way (see the file's header). */
export class ChangeQueue {
  /** Changes waiting to be applied together, by bot and conversation id (see `applyChange`). */
  private readonly queued = new Map<string, QueuedChange>();
  private readonly batches = new Set<Promise<void>>();
  private flushTimer: NodeJS.Timeout | null = null;
  private flushTimerAt = Infinity;
  private flushImmediate: NodeJS.Immediate | null = null;
  /** The batch the timers' and next ticks' flushes started, while it is under way (see `flush`). */
  private applying: Promise<void> | null = null;
  private flushWhenApplied = false;

  constructor(
    private readonly records: RecordSource,
    private readonly settings: RollupSettings,
    private readonly applier: BatchApplier,
    private readonly marks: DayMarks,
  ) {}

  /** Applies every change still waiting (see `applyChange`) and resolves once all under way are applied. */
  async settled(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.flushTimerAt = Infinity;
    await this.flush(true);
    while (this.batches.size > 0) await Promise.all([...this.batches]);
    await this.marks.flush();
  }

  /**
   * Applies the current state of a conversation's records (the conversation and the messages named); resolves
   * once applied. Changes announced in the same tick are applied together (group commit): their records read
   * at once, the days' marks raised and lowered in one write each, each conversation's fact updated atomically
   * as its own, and one update per day for all of them. A change whose writer announces another shortly (a
   * turn's question, before its answer) waits up to `coalesceMs` for it, so the two are applied as one; that is
   * well within a poll, so one a crash leaves waiting is among the records `AnalyticsRollups.recover`
   * applies again. A change nobody waits for (`lingering`: a finished answer) waits up to `lingerMs`, and goes
   * with any batch applied before.
   */
  applyChange(chatbotId: string, conversationId: string, messageIds: string[]): Promise<void> {
    // Read synchronously: the announcement offers its records only while it is being published.
    const announced = this.records.announced?.(conversationId);
    const now = Date.now();
    const key = `${chatbotId}:${conversationId}`;
    let change = this.queued.get(key);
    if (!change) {
      change = {
        chatbotId,
        conversationId,
        messageIds: new Set(),
        written: new Map(),
        dueAt: Infinity,
        lingering: false,
        waiters: [],
      };
      this.queued.set(key, change);
    }
    for (const id of messageIds) {
      change.messageIds.add(id);
      // A record named again without its stored state is read back, never taken from an older announcement.
      if (!announced?.records.has(id)) change.written.delete(id);
    }
    for (const [id, record] of announced?.records ?? []) change.written.set(id, record as RawConversation | RawMessage);
    const lingering = announced?.lingering === true;
    const wait = announced?.followUp ? coalesceMs(this.settings) : lingering ? lingerMs(this.settings) : 0;
    change.dueAt = Math.min(change.dueAt, now + wait);
    // Taken by any batch from now on (a question alone waits for its answer instead).
    if (lingering) change.lingering = true;
    const done = new Promise<void>((resolve, reject) => change.waiters.push({ resolve, reject }));
    this.scheduleFlush(change.dueAt);
    return done;
  }

  /** Applies every change still waiting now and resolves once every batch under way is applied (for reports). */
  async applyWaiting(): Promise<void> {
    await this.flush(true);
    while (this.batches.size > 0) await Promise.all([...this.batches]);
  }

  /** Resolves once the batches under way now are written (they never reject). */
  batchesUnderWay(): Promise<void[]> {
    return Promise.all([...this.batches]);
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

  /**
   * Applies, as one batch, every queued change that is due or lingering (every one when `all`); reschedules the
   * rest. One such batch at a time: what falls due while one is under way goes in the next, larger one, so a
   * slow or stalled database meets one batch rather than one more every tick (nothing waits on a finished
   * answer's change to slow the turns down). `all` (a report, a stop) applies at once.
   */
  private flush(all: boolean): Promise<void> {
    if (!all && this.applying) {
      this.flushWhenApplied = true;
      return this.applying;
    }
    const now = Date.now();
    const due: QueuedChange[] = [];
    let next = Infinity;
    for (const [id, change] of this.queued) {
      if (all || change.dueAt <= now || change.lingering) {
        due.push(change);
        this.queued.delete(id);
      } else next = Math.min(next, change.dueAt);
    }
    if (next < Infinity) this.scheduleFlush(next);
    if (due.length === 0) return Promise.resolve();
    const batch = this.applier.applyBatch(due).finally(() => {
      this.batches.delete(batch);
      if (this.applying !== batch) return;
      this.applying = null;
      if (this.flushWhenApplied) {
        this.flushWhenApplied = false;
        void this.flush(false);
      }
    });
    this.batches.add(batch);
    if (!all) this.applying = batch;
    return batch;
  }
}
