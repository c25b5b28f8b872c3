import type { Types } from 'mongoose';
import type { IdempotencyKeyModel } from './idempotency.model.js';
import { AppError } from '../errors/app-error.js';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';

/** How long a key's first response is replayed (Stripe's 24 hours). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** A claim not renewed for this long was left by a stopped server (`renew` keeps a running one held). */
export const DEFAULT_IDEMPOTENCY_LOCK_MS = 30_000;
/** Expired keys are swept at most this often, by the requests that claim keys. */
const SWEEP_EVERY_MS = 10 * 60_000;

export interface StoredResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
}

export type Claim = { kind: 'run'; id: Types.ObjectId } | { kind: 'replay'; response: StoredResponse };

/**
 * Stripe-style idempotency keys kept in MongoDB: a key is claimed atomically (a unique index on
 * scope + key) before its request runs, so of concurrent requests with one key only one runs.
 */
export class IdempotencyService {
  private lastSweep = 0;

  /**
   * How long a running claim holds its key unrenewed. The request holding it renews it (see `renew`), so a
   * request cut by a crash frees its key within this for a retry with the same key.
   */
  readonly lockMs: number;

  constructor(
    private readonly models: { IdempotencyKey: IdempotencyKeyModel },
    options: { lockMs?: number } = {},
  ) {
    this.lockMs = options.lockMs ?? DEFAULT_IDEMPOTENCY_LOCK_MS;
  }

  async claim(scope: string, key: string, fingerprint: string): Promise<Claim> {
    this.sweepSometimes();
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const now = Date.now();
      try {
        const doc = await this.models.IdempotencyKey.create({
          scope,
          key,
          fingerprint,
          state: 'running',
          lockedUntil: new Date(now + this.lockMs),
          expiresAt: new Date(now + IDEMPOTENCY_TTL_MS),
        });
        return { kind: 'run', id: doc._id };
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const existing = await this.models.IdempotencyKey.findOne({ scope, key }).lean();
      // Gone in between (expired and swept, or abandoned): claim again.
      if (!existing) continue;
      if (existing.expiresAt.getTime() <= now) {
        await this.models.IdempotencyKey.deleteOne({ _id: existing._id, expiresAt: existing.expiresAt });
        continue;
      }
      if (existing.fingerprint !== fingerprint) {
        throw new AppError('IdempotencyError', {
          message:
            'This Idempotency-Key was already used with a different request (method, path or body); use a new key for a new request',
          details: { header: 'Idempotency-Key', key },
        });
      }
      if (existing.state === 'done') {
        return {
          kind: 'replay',
          response: {
            status: existing.status ?? 200,
            body: existing.body ?? '',
            headers: Object.fromEntries(Object.entries(existing.headers ?? {})),
          },
        };
      }
      if (existing.lockedUntil.getTime() <= now) {
        const taken = await this.models.IdempotencyKey.findOneAndUpdate(
          { _id: existing._id, state: 'running', lockedUntil: existing.lockedUntil },
          { $set: { lockedUntil: new Date(now + this.lockMs) } },
        );
        if (taken) return { kind: 'run', id: existing._id };
      }
      throw new AppError('ConflictError', {
        message: 'A request with this Idempotency-Key is still running; retry after it finishes to get its response',
        details: { header: 'Idempotency-Key', key },
        headers: { 'Retry-After': '1' },
      });
    }
    throw new AppError('ConflictError', {
      message: 'This Idempotency-Key is changing hands; retry shortly',
      headers: { 'Retry-After': '1' },
    });
  }

  /** Holds a running claim for another `lockMs`: its request is still being answered. */
  async renew(id: Types.ObjectId): Promise<void> {
    await this.models.IdempotencyKey.updateOne(
      { _id: id, state: 'running' },
      { $set: { lockedUntil: new Date(Date.now() + this.lockMs) } },
    );
  }

  /** Keeps the response for replays. */
  async complete(id: Types.ObjectId, response: StoredResponse): Promise<void> {
    await this.models.IdempotencyKey.updateOne(
      { _id: id },
      { $set: { state: 'done', status: response.status, body: response.body, headers: response.headers } },
    );
  }

  /** Frees the key (the request failed in a way a retry should run again). */
  async abandon(id: Types.ObjectId): Promise<void> {
    await this.models.IdempotencyKey.deleteOne({ _id: id, state: 'running' });
  }

  private sweepSometimes(): void {
    const now = Date.now();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    // Best effort: a key past its expiry is also treated as absent when claimed, swept or not.
    void this.models.IdempotencyKey.deleteMany({ expiresAt: { $lt: new Date(now) } }).catch(() => undefined);
  }
}
