import { randomUUID } from 'node:crypto';
import type { Types } from 'mongoose';
import type { KnowledgeModels } from './knowledge-models.js';
import type { Logger } from '../logger.js';
import { failureReason, isRetryable } from './ingest-error.js';

/** A job this process holds the lease of. */
export interface ClaimedJob {
  id: Types.ObjectId;
  organizationId: string;
  chatbotId: string;
  sourceId: Types.ObjectId;
  revision: number;
  attempts: number;
  lockToken: string;
}

/** What the queue runs; `process` must stop promptly when the signal aborts. */
export interface JobProcessor {
  process(job: ClaimedJob, signal: AbortSignal): Promise<void>;
  /** Called when an attempt failed and another will follow after a backoff. */
  onRetry(job: ClaimedJob, reason: string): Promise<void>;
  /** Called once when the job gives up for good. */
  onFailed(job: ClaimedJob, reason: string): Promise<void>;
}

export interface QueueSettings {
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  maxAttempts: number;
  backoffMs: number;
}

const NEVER_LOCKED = new Date(0);

/**
 * A durable job queue in MongoDB. Jobs are claimed with one atomic
 * `findOneAndUpdate` that sets a lease; a running job renews its lease, and a lease
 * that runs out (a crashed or stopped process) lets any worker take the job again.
 * Completion and retries are written only while holding the lease (`lockToken`),
 * so a job taken over by another worker is never finished twice.
 */
export class SourceQueue {
  private readonly active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly models: KnowledgeModels,
    private readonly processor: JobProcessor,
    private readonly settings: QueueSettings,
    private readonly logger: Logger,
  ) {}

  /** Queues (or requeues) a source's processing for `revision`; a running attempt of an older revision loses its lease. */
  async enqueue(source: {
    _id: Types.ObjectId;
    organizationId: Types.ObjectId;
    chatbotId: Types.ObjectId;
    revision: number;
  }): Promise<void> {
    await this.models.KnowledgeJob.updateOne(
      { sourceId: source._id },
      {
        $set: {
          organizationId: source.organizationId,
          chatbotId: source.chatbotId,
          status: 'queued',
          revision: source.revision,
          attempts: 0,
          runAt: new Date(),
          lockedUntil: NEVER_LOCKED,
          lockToken: null,
          lastError: null,
          finishedAt: null,
        },
      },
      { upsert: true },
    );
    this.notify();
  }

  /** Drops a source's job and stops its attempt in this process. */
  async cancel(sourceId: Types.ObjectId): Promise<void> {
    await this.models.KnowledgeJob.deleteOne({ sourceId });
    this.active.get(sourceId.toString())?.controller.abort(new Error('source deleted'));
  }

  /** Wakes the worker, e.g. right after a job was queued in this process. */
  notify(): void {
    this.wake?.();
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
          const job = await this.claim();
          if (!job) break;
          this.track(job);
        }
      } catch (error) {
        this.logger.error({ err: error }, 'claiming a knowledge job failed');
      }
      if (!this.running) break;
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

  private async claim(): Promise<ClaimedJob | null> {
    const now = new Date();
    const lockToken = randomUUID();
    const doc = await this.models.KnowledgeJob.findOneAndUpdate(
      { status: { $in: ['queued', 'running'] }, runAt: { $lte: now }, lockedUntil: { $lte: now } },
      {
        $set: { status: 'running', lockToken, lockedUntil: new Date(now.getTime() + this.settings.leaseMs) },
        $inc: { attempts: 1 },
      },
      { sort: { runAt: 1 }, returnDocument: 'after' },
    ).lean();
    if (!doc) return null;
    return {
      id: doc._id,
      organizationId: doc.organizationId.toString(),
      chatbotId: doc.chatbotId.toString(),
      sourceId: doc.sourceId,
      revision: doc.revision,
      attempts: doc.attempts,
      lockToken,
    };
  }

  private track(job: ClaimedJob): void {
    const controller = new AbortController();
    const key = job.sourceId.toString();
    const done = this.attempt(job, controller).finally(() => {
      if (this.active.get(key)?.controller === controller) this.active.delete(key);
      this.notify();
    });
    this.active.set(key, { controller, done });
  }

  private async attempt(job: ClaimedJob, controller: AbortController): Promise<void> {
    const held = { _id: job.id, lockToken: job.lockToken };
    const heartbeat = setInterval(
      () => {
        const lockedUntil = new Date(Date.now() + this.settings.leaseMs);
        this.models.KnowledgeJob.updateOne(held, { $set: { lockedUntil } })
          .then((result) => {
            // Requeued (the source changed) or taken over: this attempt no longer counts.
            if (result.matchedCount === 0) controller.abort(new Error('lease lost'));
          })
          .catch((error: unknown) => this.logger.warn({ err: error }, 'renewing a knowledge job lease failed'));
      },
      Math.max(50, Math.floor(this.settings.leaseMs / 3)),
    );
    try {
      if (job.attempts > this.settings.maxAttempts) {
        await this.giveUp(job, `gave up after ${this.settings.maxAttempts} attempts`);
        return;
      }
      await this.processor.process(job, controller.signal);
      controller.signal.throwIfAborted();
      await this.models.KnowledgeJob.updateOne(held, {
        $set: { status: 'done', lockToken: null, lastError: null, finishedAt: new Date() },
      });
    } catch (error) {
      await this.afterError(job, controller.signal, error);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async afterError(job: ClaimedJob, signal: AbortSignal, error: unknown): Promise<void> {
    const held = { _id: job.id, lockToken: job.lockToken };
    try {
      if (signal.aborted) {
        // Stopping: hand the job back at once, without spending an attempt on it.
        if (!this.running) {
          const released = await this.models.KnowledgeJob.updateOne(held, {
            $set: { status: 'queued', lockToken: null, lockedUntil: NEVER_LOCKED },
            $inc: { attempts: -1 },
          });
          if (released.matchedCount > 0) await this.processor.onRetry(job, 'worker stopped');
        }
        return;
      }
      const reason = failureReason(error);
      if (!isRetryable(error) || job.attempts >= this.settings.maxAttempts) {
        if (isRetryable(error)) this.logger.warn({ err: error, sourceId: job.sourceId }, 'knowledge job failed');
        await this.giveUp(job, reason);
        return;
      }
      const delay = this.settings.backoffMs * 2 ** (job.attempts - 1) * (0.75 + Math.random() / 2);
      const result = await this.models.KnowledgeJob.updateOne(held, {
        $set: {
          status: 'queued',
          lockToken: null,
          lockedUntil: NEVER_LOCKED,
          runAt: new Date(Date.now() + delay),
          lastError: reason,
        },
      });
      if (result.matchedCount > 0) await this.processor.onRetry(job, reason);
    } catch (writeError) {
      // The lease runs out on its own and the job is retaken; nothing is lost.
      this.logger.error({ err: writeError, sourceId: job.sourceId }, 'recording a knowledge job outcome failed');
    }
  }

  private async giveUp(job: ClaimedJob, reason: string): Promise<void> {
    const result = await this.models.KnowledgeJob.updateOne(
      { _id: job.id, lockToken: job.lockToken },
      { $set: { status: 'failed', lockToken: null, lastError: reason, finishedAt: new Date() } },
    );
    if (result.matchedCount > 0) await this.processor.onFailed(job, reason);
  }

  /** Re-queues sources left `queued` or `processing` without a job (a crash between their two writes). */
  async recoverOrphans(): Promise<number> {
    const pending = await this.models.Source.find(
      { status: { $in: ['queued', 'processing'] } },
      { organizationId: 1, chatbotId: 1, revision: 1 },
    ).lean();
    if (pending.length === 0) return 0;
    const jobs = await this.models.KnowledgeJob.find(
      { sourceId: { $in: pending.map((source) => source._id) }, status: { $in: ['queued', 'running'] } },
      { sourceId: 1 },
    ).lean();
    const withJobs = new Set(jobs.map((job) => job.sourceId.toString()));
    const orphans = pending.filter((source) => !withJobs.has(source._id.toString()));
    for (const source of orphans) await this.enqueue({ ...source, revision: source.revision ?? 1 });
    return orphans.length;
  }
}
