import { Types } from 'mongoose';
import type { KnowledgeModels } from './knowledge-models.js';
import type { Logger } from '../logger.js';
import { failureReason, isRetryable } from './ingest-error.js';
import {
  exponentialBackoff,
  LeaseQueue,
  queuedJobState,
  type JobCollection,
  type LeasedJob,
} from '../queue/lease-queue.js';
import type { KnowledgeJobRecord } from './job.model.js';
import { asInserted } from '../db/as-inserted.js';

/** Jobs queued by this process and held back until `release` (see `SourceQueue.enqueueNew`). */
export type Reservation = ReturnType<LeaseQueue<KnowledgeJobRecord>['reserve']>;

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

function claimed(job: LeasedJob<KnowledgeJobRecord>): ClaimedJob {
  const { record } = job;
  return {
    id: job.id,
    organizationId: record.organizationId.toString(),
    chatbotId: record.chatbotId.toString(),
    sourceId: record.sourceId,
    revision: record.revision,
    attempts: job.attempts,
    lockToken: job.lockToken,
  };
}

/**
 * The knowledge queue: one job per source (reused for every reprocessing) on the shared lease queue.
 * Requeuing a source resets its job, so an attempt of an older revision loses its lease.
 */
export class SourceQueue {
  private readonly queue: LeaseQueue<KnowledgeJobRecord>;

  constructor(
    private readonly models: KnowledgeModels,
    processor: JobProcessor,
    settings: QueueSettings,
    logger: Logger,
  ) {
    this.queue = new LeaseQueue<KnowledgeJobRecord>(
      models.KnowledgeJob as unknown as JobCollection,
      {
        process: (job, signal) => processor.process(claimed(job), signal),
        classify: (error) => ({ retryable: isRetryable(error), reason: failureReason(error) }),
        onRetry: (job, reason) => processor.onRetry(claimed(job), reason),
        onFailed: (job, reason) => processor.onFailed(claimed(job), reason),
      },
      {
        name: 'knowledge',
        concurrency: settings.concurrency,
        leaseMs: settings.leaseMs,
        pollMs: settings.pollMs,
        maxAttempts: settings.maxAttempts,
        retryDelayMs: exponentialBackoff(settings.backoffMs),
      },
      logger,
    );
  }

  /** Queues (or requeues) a source's processing for `revision`; a running attempt of an older revision loses its lease. */
  async enqueue(source: {
    _id: Types.ObjectId;
    organizationId: Types.ObjectId;
    chatbotId: Types.ObjectId;
    revision: number;
  }): Promise<void> {
    const job = await this.models.KnowledgeJob.findOneAndUpdate(
      { sourceId: source._id },
      {
        $set: {
          organizationId: source.organizationId,
          chatbotId: source.chatbotId,
          revision: source.revision,
          ...queuedJobState(),
        },
      },
      { upsert: true, returnDocument: 'after', projection: { _id: 1 } },
    ).lean();
    // Claimed by id (a lookup) rather than found by the scan for due jobs.
    if (job) this.queue.hint([job._id]);
    else this.queue.notify();
  }

  /**
   * Holds back the jobs of sources being written (see `enqueueNew`): what `enqueueNew` and `release` take.
   */
  reserve(now = new Date()) {
    return this.queue.reserve(now);
  }

  /**
   * Queues the jobs of new sources with one insert, held back from every worker by `reservation` while the
   * sources themselves may still be being written (beside this insert); `release` then lets this process
   * claim them at once. If the process dies before that, the reservation runs out as a lease does and any
   * worker takes them; a job whose source was never written finds nothing to do.
   */
  async enqueueNew(
    sources: Array<{
      _id: Types.ObjectId;
      organizationId: Types.ObjectId;
      chatbotId: Types.ObjectId;
      revision: number;
    }>,
    reservation: Reservation,
    now = new Date(),
  ): Promise<Types.ObjectId[]> {
    const { KnowledgeJob } = this.models;
    // Every field is set here, so the jobs are written lean (no mongoose document per job).
    const jobs = sources.map((source) =>
      asInserted(
        KnowledgeJob,
        {
          _id: new Types.ObjectId(),
          organizationId: source.organizationId,
          chatbotId: source.chatbotId,
          sourceId: source._id,
          revision: source.revision,
          ...reservation.fields,
        },
        now,
      ),
    );
    await KnowledgeJob.insertMany(jobs, { lean: true });
    return jobs.map((job) => job._id);
  }

  /** Lets this process claim jobs queued with `enqueueNew` now that their sources are written. */
  release(jobIds: Types.ObjectId[], reservation: Reservation): void {
    this.queue.hint(jobIds, reservation.reservation);
  }

  /** Drops a source's job and stops its attempt in this process. */
  async cancel(sourceId: Types.ObjectId): Promise<void> {
    const job = await this.models.KnowledgeJob.findOneAndDelete({ sourceId }, { projection: { _id: 1 } }).lean();
    if (job) this.queue.abort(job._id, 'source deleted');
  }

  /** Wakes the worker, e.g. right after a job was queued in this process. */
  notify(): void {
    this.queue.notify();
  }

  start(): void {
    this.queue.start();
  }

  /** Stops claiming, aborts attempts in flight and hands their jobs back, and waits until all of that is written. */
  stop(): Promise<void> {
    return this.queue.stop();
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
