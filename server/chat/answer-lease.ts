import { randomUUID } from 'node:crypto';
import type { Types } from 'mongoose';
import type { AnswerLease, AnswerMessages } from '../conversations/answer-messages.js';
import type { Logger } from '../logger.js';

/** Stored on an answer whose writer stopped (crash, kill -9, lost database) before finishing it. */
export const INTERRUPTED_ANSWER =
  'The answer was interrupted because the server writing it stopped; send the message again to get a full answer';

/** A checkpoint is also written as soon as this much new text has streamed since the last one. */
const CHECKPOINT_CHARS = 2_000;

type AnswerLike = { status?: string | null; heartbeatAt?: Date | null; updatedAt: Date };

/** The fields that hand a pending answer to one turn of this process. */
export type LeaseFields = AnswerLease;

/** Keeps one turn's answer alive in the database while it streams. */
export interface AnswerCheckpoint {
  /** Called after each streamed piece: writes early once enough new text has arrived. */
  grew(): void;
  /** Stops the heartbeat and waits for a checkpoint in flight, so it cannot land after the final write. */
  stop(): Promise<void>;
}

/**
 * Leases on pending answers. The turn writing an answer heartbeats it about once a second with the
 * text streamed so far, so a crash keeps what was sent. An answer whose heartbeat is older than the
 * lease was left by a process that died: every node sweeps such answers to `failed` (one conditional
 * update, safe when several nodes run it), and a retry of one is answered again at once.
 */
export class AnswerLeases {
  /** This process; pending answers name it so operators can see who holds them. */
  readonly owner = randomUUID();
  private readonly heartbeatMs: number;
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    /** The owner of messages, which writes the checkpoints and the sweep. */
    private readonly messages: Pick<AnswerMessages, 'checkpointAnswer' | 'failStaleAnswers'>,
    private readonly leaseMs: number,
    private readonly logger: Logger,
    /** Runs after each sweep: closes what the swept answers left open (their action calls still `sending`). */
    private readonly afterSweep: () => Promise<unknown> = async () => undefined,
  ) {
    // Several heartbeats fit in one lease, so a busy event loop does not make a live answer look dead.
    this.heartbeatMs = Math.max(50, Math.min(1_000, Math.floor(leaseMs / 4)));
  }

  /** Fields for a new or reset pending answer, owned by a fresh turn of this process. */
  claim(): LeaseFields {
    return { leaseOwner: this.owner, leaseId: randomUUID(), heartbeatAt: new Date() };
  }

  /** True when a pending answer's writer has not been heard from within the lease. */
  isStale(answer: AnswerLike): boolean {
    if (answer.status !== 'pending') return false;
    return (answer.heartbeatAt ?? answer.updatedAt).getTime() < Date.now() - this.leaseMs;
  }

  /** Seconds until a pending answer, if its writer is gone, counts as stale (for Retry-After). */
  secondsUntilStale(answer: AnswerLike): number {
    const due = (answer.heartbeatAt ?? answer.updatedAt).getTime() + this.leaseMs - Date.now();
    return Math.max(1, Math.ceil(due / 1_000));
  }

  /** The filter matching pending answers whose writer is gone (answers from before leases use `updatedAt`). */
  staleFilter(): Record<string, unknown> {
    const before = new Date(Date.now() - this.leaseMs);
    return {
      status: 'pending',
      $or: [{ heartbeatAt: { $lt: before } }, { heartbeatAt: null, updatedAt: { $lt: before } }],
    };
  }

  /** Heartbeats `answerId` with `text()` until stopped; only while the answer is still this turn's. */
  keepAlive(answerId: Types.ObjectId, leaseId: string, text: () => string): AnswerCheckpoint {
    let written = 0;
    let inFlight: Promise<void> | null = null;
    const write = () => {
      if (inFlight) return;
      const content = text();
      inFlight = this.messages
        .checkpointAnswer(answerId, leaseId, content)
        .then(() => {
          written = content.length;
        })
        .catch((error: unknown) => {
          // The final write reports a lost database; a missed checkpoint only loses the last second.
          this.logger.debug({ err: error }, 'could not checkpoint a streaming answer');
        })
        .finally(() => {
          inFlight = null;
        });
    };
    const timer = setInterval(write, this.heartbeatMs);
    return {
      grew: () => {
        if (text().length - written >= CHECKPOINT_CHARS) write();
      },
      stop: async () => {
        clearInterval(timer);
        await inFlight;
      },
    };
  }

  /** Marks every stale pending answer failed, keeping its checkpointed text; returns how many. */
  async sweep(): Promise<number> {
    const swept = await this.messages.failStaleAnswers(this.staleFilter(), INTERRUPTED_ANSWER);
    if (swept > 0) this.logger.warn({ answers: swept }, 'marked answers left pending by a stopped server as failed');
    // Only tidying: a failure here leaves calls `sending` until the next sweep, never stops the sweep.
    await this.afterSweep().catch((error: unknown) =>
      this.logger.warn({ err: error }, 'could not close the action calls of stopped answers'),
    );
    return swept;
  }

  /** Sweeps now (answers a crash left behind), then every half lease. */
  async start(): Promise<void> {
    await this.sweep();
    this.sweeper = setInterval(
      () => {
        this.sweep().catch((error: unknown) => this.logger.warn({ err: error }, 'could not sweep stale answers'));
      },
      Math.max(this.heartbeatMs, Math.floor(this.leaseMs / 2)),
    );
    this.sweeper.unref();
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }
}
