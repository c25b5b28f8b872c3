import { randomUUID } from 'node:crypto';
import type { Model, Schema, Types } from 'mongoose';
import type { Logger } from '../logger.js';
import { GroupCommit, succeeded } from '../db/group-commit.js';

/**
 * The fields every durable job collection has (knowledge jobs, webhook deliveries, agent-loop runs, channel
 * replies). Spread them into the collection's schema beside its own fields, and add `leasedJobIndex`.
 */
export const leasedJobFields = {
  status: { type: String, enum: ['queued', 'running', 'done', 'failed'], default: 'queued' },
  attempts: { type: Number, default: 0 },
  /** When the job may next be claimed (later than now while it waits for a retry). */
  runAt: { type: Date, required: true },
  /** A claimed job's lease: until then no other worker takes it. */
  lockedUntil: { type: Date, required: true },
  lockToken: { type: String, default: null },
  lastError: { type: String, default: null },
  finishedAt: { type: Date, default: null },
} as const;

export function addLeasedJobIndexes(schema: Schema): void {
  schema.index({ status: 1, runAt: 1 });
}

/** What the queue reads of a claimed record; the rest of the record is its owner's. */
export interface LeasedJobState {
  _id: Types.ObjectId;
  attempts: number;
}

/** The collection a queue works on, typed loosely: each kind of job has its own record. */
export type JobCollection = Model<Record<string, unknown>>;

/** A fresh job's lease fields: queued, claimable at `runAt` (now by default). */
export function queuedJobState(runAt = new Date()) {
  return {
    status: 'queued' as const,
    attempts: 0,
    runAt,
    lockedUntil: NEVER_LOCKED,
    lockToken: null,
    lastError: null,
    finishedAt: null,
  };
}

export const NEVER_LOCKED = new Date(0);

/** Hinted job ids kept at most; past that, jobs are found by the scan. */
const MAX_HINTED = 10_000;

/** A job this process holds the lease of: its stored record as claimed, and the token that proves the lease. */
export interface LeasedJob<T> {
  id: Types.ObjectId;
  attempts: number;
  lockToken: string;
  record: T;
}

/** How a failed attempt is to be treated. */
export interface FailureVerdict {
  retryable: boolean;
  /** Kept as the job's `lastError`: our own words, never raw library text with secrets in it. */
  reason: string;
}

export interface JobHandler<T> {
  /** Does the job's work; must stop promptly when the signal aborts. What it returns is written on completion. */
  process(job: LeasedJob<T>, signal: AbortSignal): Promise<Record<string, unknown> | void>;
  /** Classifies a failure; unknown errors (a database blip) deserve another try by default. */
  classify?(error: unknown): FailureVerdict;
  /** Called when an attempt failed and another follows at `nextRunAt`. */
  onRetry?(job: LeasedJob<T>, reason: string, nextRunAt: Date): Promise<void>;
  /** Called once when the job gives up for good. */
  onFailed?(job: LeasedJob<T>, reason: string): Promise<void>;
  /**
   * The owner's fields written with the job's `failed` status, in the same update, so no reader ever sees the
   * job failed without them (e.g. why it ended).
   */
  failedFields?(job: LeasedJob<T>, reason: string): Record<string, unknown>;
}

export interface LeaseQueueSettings {
  /** Named in logs. */
  name: string;
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  maxAttempts: number;
  /** The wait before attempt `attempt + 1`, given how many attempts were made (jitter is added). */
  retryDelayMs: (attempts: number) => number;
  /** Narrows which jobs this queue claims, for collections shared by several kinds of job. */
  filter?: Record<string, unknown>;
}

/** Doubling backoff from `baseMs`: base, 2×base, 4×base, … */
export function exponentialBackoff(baseMs: number): (attempts: number) => number {
  return (attempts) => baseMs * 2 ** Math.max(0, attempts - 1);
}

/** A fixed schedule (e.g. 5 s, 5 min, 30 min, …); attempts past its end wait as long as its last step. */
export function scheduledBackoff(stepsMs: readonly number[]): (attempts: number) => number {
  return (attempts) => stepsMs[Math.min(Math.max(0, attempts - 1), stepsMs.length - 1)] ?? 0;
}

const defaultVerdict = (): FailureVerdict => ({ retryable: true, reason: 'processing failed unexpectedly' });

/**
 * A durable job queue over one MongoDB collection. Jobs are claimed with one atomic `findOneAndUpdate`
 * that sets a lease; a running job renews its lease, and a lease that runs out (a crashed or stopped
 * process) lets any worker, on any node, take the job again. Completion and retries are written only while
 * holding the lease (`lockToken`), so a job taken over by another worker is never finished twice.
 * Enqueuing is the owner's business (an upsert, an insert beside the write that causes it): a queued job is
 * any record with `status: 'queued'` and a due `runAt`.
 */
export class LeaseQueue<T extends LeasedJobState> {
  private readonly active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** A wake-up that came while the loop was busy claiming: the next wait is skipped. */
  private wokenWhileBusy = false;
  /** Jobs this process just queued, claimed by id (cheap) before the loop looks for due jobs (a scan). */
  private readonly hinted: Array<{ id: Types.ObjectId; reservation: string | null }> = [];
  /** Completions of attempts that end together are written with one `bulkWrite`. */
  private readonly completions: GroupCommit<{ job: LeasedJob<T>; outcome: Record<string, unknown> | void }, void>;

  constructor(
    private readonly model: JobCollection,
    private readonly handler: JobHandler<T>,
    private readonly settings: LeaseQueueSettings,
    private readonly logger: Logger,
  ) {
    this.completions = new GroupCommit(async (items) => {
      const finishedAt = new Date();
      await this.model.bulkWrite(
        items.map(({ job, outcome }) => ({
          updateOne: {
            filter: this.held(job),
            update: { $set: { ...outcome, status: 'done', lockToken: null, lastError: null, finishedAt } },
          },
        })),
        { ordered: false },
      );
      return items.map(() => succeeded<void>(undefined));
    });
  }

  /** Wakes the worker, e.g. right after a job was queued in this process. */
  notify(): void {
    if (this.wake) this.wake();
    else this.wokenWhileBusy = true;
  }

  /**
   * Names jobs this process just queued, so the worker claims them by id at once instead of finding them by
   * the next scan for due jobs; a job another worker took first is skipped. Kept in memory only: the scan
   * still finds every due job.
   */
  hint(jobIds: readonly Types.ObjectId[], reservation: string | null = null): void {
    const room = MAX_HINTED - this.hinted.length;
    if (room > 0) this.hinted.push(...jobIds.slice(0, room).map((id) => ({ id, reservation })));
    this.notify();
  }

  /**
   * The lease fields of jobs this process queues while the writes they depend on are still in flight: the
   * jobs are held back from every worker (other nodes' scans included) for one lease, as a claimed job is.
   * Once those writes are done, `hint(ids, reservation)` lets this worker claim them at once; if this
   * process dies first, the reservation runs out like a lease and any worker takes the jobs.
   */
  reserve(now = new Date()) {
    const reservation = randomUUID();
    return {
      reservation,
      fields: {
        ...queuedJobState(now),
        lockToken: reservation,
        lockedUntil: new Date(now.getTime() + this.settings.leaseMs),
      },
    };
  }

  /** Stops this process's attempt of a job (its record was deleted or superseded). */
  abort(jobId: Types.ObjectId, reason: string): void {
    this.active.get(jobId.toString())?.controller.abort(new Error(reason));
  }

  /** How many jobs this process is running now. */
  get inFlight(): number {
    return this.active.size;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming, aborts attempts in flight and hands their jobs back, and waits until all of that is written. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.notify();
    for (const { controller } of this.active.values()) controller.abort(new Error('worker stopping'));
    await this.loop;
    await Promise.all([...this.active.values()].map((job) => job.done));
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        while (this.running && this.active.size < this.settings.concurrency) {
          const jobs = await this.claim(this.settings.concurrency - this.active.size);
          if (jobs.length === 0) break;
          for (const job of jobs) this.track(job);
        }
      } catch (error) {
        this.logger.error({ err: error, queue: this.settings.name }, 'claiming a job failed');
      }
      if (!this.running) break;
      if (this.wokenWhileBusy) {
        this.wokenWhileBusy = false;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.settings.pollMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
  }

  /**
   * Claims up to `room` jobs: the hinted ones by id, several per round trip, then (none of them left to
   * take) due jobs found by the scan.
   */
  private async claim(room: number): Promise<Array<LeasedJob<T>>> {
    while (this.hinted.length > 0) {
      const jobs = await this.claimHinted(this.hinted.splice(0, room));
      if (jobs.length > 0) return jobs;
    }
    if (room === 1) {
      const job = await this.claimWhere(this.dueAt(new Date()));
      return job ? [job] : [];
    }
    const due = await this.model
      .find({ ...this.settings.filter, ...this.dueAt(new Date()) }, { _id: 1 })
      .sort({ runAt: 1 })
      .limit(room)
      .lean();
    return this.claimHinted(due.map((job) => ({ id: job._id as Types.ObjectId, reservation: null })));
  }

  /**
   * What a claimable job looks like at `now`: queued or running, due, and its lease run out, or (among
   * `reservations`) still queued under one of this process's reservations.
   */
  private dueAt(now: Date, reservations: string[] = []) {
    const free = { lockedUntil: { $lte: now } };
    return {
      status: { $in: ['queued', 'running'] },
      runAt: { $lte: now },
      ...(reservations.length > 0 ? { $or: [free, { status: 'queued', lockToken: { $in: reservations } }] } : free),
    };
  }

  /**
   * Claims the given jobs that are still claimable: one conditional `updateMany` (lookups on the unique
   * `_id` index) gives them this claim's token, one read returns those it took. A job another worker took
   * first keeps its own token and is not returned.
   */
  private async claimHinted(hints: Array<{ id: Types.ObjectId; reservation: string | null }>) {
    if (hints.length === 0) return [];
    const now = new Date();
    const reservations = [...new Set(hints.flatMap((hint) => (hint.reservation ? [hint.reservation] : [])))];
    const ids = hints.map((hint) => hint.id);
    if (ids.length === 1) {
      const job = await this.claimWhere({ _id: ids[0], ...this.dueAt(now, reservations) });
      return job ? [job] : [];
    }
    const lockToken = randomUUID();
    const claimed = await this.model.updateMany(
      { ...this.settings.filter, _id: { $in: ids }, ...this.dueAt(now, reservations) },
      {
        $set: { status: 'running', lockToken, lockedUntil: new Date(now.getTime() + this.settings.leaseMs) },
        $inc: { attempts: 1 },
      },
    );
    if (claimed.modifiedCount === 0) return [];
    // Read by `_id` alone: the claim's token is checked below, so the read needs no other condition.
    const records = (await this.model.find({ _id: { $in: ids } }).lean()) as unknown as Array<
      T & { lockToken?: string }
    >;
    return records
      .filter((record) => record.lockToken === lockToken)
      .map((record) => ({ id: record._id, attempts: record.attempts, lockToken, record }));
  }

  private async claimWhere(where: Record<string, unknown>): Promise<LeasedJob<T> | null> {
    const now = new Date();
    const lockToken = randomUUID();
    const record = (await this.model
      .findOneAndUpdate(
        { ...this.settings.filter, ...where },
        {
          $set: { status: 'running', lockToken, lockedUntil: new Date(now.getTime() + this.settings.leaseMs) },
          $inc: { attempts: 1 },
        },
        { sort: { runAt: 1 }, returnDocument: 'after' },
      )
      .lean()) as T | null;
    if (!record) return null;
    return { id: record._id, attempts: record.attempts, lockToken, record };
  }

  private track(job: LeasedJob<T>): void {
    const controller = new AbortController();
    const key = job.id.toString();
    const done = this.attempt(job, controller).finally(() => {
      if (this.active.get(key)?.controller === controller) this.active.delete(key);
      this.notify();
    });
    this.active.set(key, { controller, done });
  }

  private held(job: LeasedJob<T>) {
    return { _id: job.id, lockToken: job.lockToken };
  }

  private async attempt(job: LeasedJob<T>, controller: AbortController): Promise<void> {
    const heartbeat = setInterval(
      () => {
        const lockedUntil = new Date(Date.now() + this.settings.leaseMs);
        this.model
          .updateOne(this.held(job), { $set: { lockedUntil } })
          .then((result) => {
            // Requeued (its owner changed it) or taken over: this attempt no longer counts.
            if (result.matchedCount === 0) controller.abort(new Error('lease lost'));
          })
          .catch((error: unknown) =>
            this.logger.warn({ err: error, queue: this.settings.name }, 'renewing a job lease failed'),
          );
      },
      Math.max(50, Math.floor(this.settings.leaseMs / 3)),
    );
    try {
      if (job.attempts > this.settings.maxAttempts) {
        // Every attempt was cut (its process died): this claim only ends the job, so it is not counted as one.
        await this.giveUp(job, `gave up after ${this.settings.maxAttempts} attempts`, { uncountClaim: true });
        return;
      }
      const outcome = await this.handler.process(job, controller.signal);
      controller.signal.throwIfAborted();
      await this.completions.submit({ job, outcome });
    } catch (error) {
      await this.afterError(job, controller.signal, error);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async afterError(job: LeasedJob<T>, signal: AbortSignal, error: unknown): Promise<void> {
    try {
      if (signal.aborted) {
        // Stopping: hand the job back at once, without spending an attempt on it.
        if (!this.running) {
          const released = await this.model.updateOne(this.held(job), {
            $set: { status: 'queued', lockToken: null, lockedUntil: NEVER_LOCKED },
            $inc: { attempts: -1 },
          });
          if (released.matchedCount > 0) await this.handler.onRetry?.(job, 'worker stopped', new Date());
        }
        return;
      }
      const verdict = (this.handler.classify ?? defaultVerdict)(error);
      if (!verdict.retryable || job.attempts >= this.settings.maxAttempts) {
        if (verdict.retryable)
          this.logger.warn({ err: error, queue: this.settings.name, jobId: job.id }, 'job failed for good');
        await this.giveUp(job, verdict.reason);
        return;
      }
      const delay = this.settings.retryDelayMs(job.attempts) * (0.75 + Math.random() / 2);
      const runAt = new Date(Date.now() + delay);
      const result = await this.model.updateOne(this.held(job), {
        $set: { status: 'queued', lockToken: null, lockedUntil: NEVER_LOCKED, runAt, lastError: verdict.reason },
      });
      if (result.matchedCount > 0) await this.handler.onRetry?.(job, verdict.reason, runAt);
    } catch (writeError) {
      // The lease runs out on its own and the job is retaken; nothing is lost.
      this.logger.error(
        { err: writeError, queue: this.settings.name, jobId: job.id },
        'recording a job outcome failed',
      );
    }
  }

  private async giveUp(job: LeasedJob<T>, reason: string, options: { uncountClaim?: boolean } = {}): Promise<void> {
    const result = await this.model.updateOne(this.held(job), {
      $set: {
        ...this.handler.failedFields?.(job, reason),
        status: 'failed',
        lockToken: null,
        lastError: reason,
        finishedAt: new Date(),
      },
      ...(options.uncountClaim ? { $inc: { attempts: -1 } } : {}),
    });
    if (result.matchedCount > 0) await this.handler.onFailed?.(job, reason);
  }
}
