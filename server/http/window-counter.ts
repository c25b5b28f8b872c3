import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';

/**
 * An in-process fixed-window counter with express-rate-limit's store interface. Unlike its
 * MemoryStore, `increment` answers a copy of the count: MemoryStore hands back its live counter,
 * so hits counted concurrently would all read the last total and all be refused.
 */
export class WindowCounter implements Store {
  /**
   * Its counts are its own (two limiters with one key do not share a count), which tells express-rate-limit's
   * double-count check to tell its instances apart: without it, the per-second and per-minute limiters counting
   * the same API key looked like one limiter counting a request twice, and the first request logged an error.
   */
  readonly localKeys = true;
  private windowMs = 60_000;
  private readonly counts = new Map<string, { totalHits: number; resetTime: Date }>();
  private sweeper: NodeJS.Timeout | undefined;

  init(options: Options): void {
    this.windowMs = options.windowMs;
    clearInterval(this.sweeper);
    this.sweeper = setInterval(() => this.sweep(), this.windowMs);
    this.sweeper.unref();
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const count = this.live(key);
    return count && { ...count };
  }

  // Answered synchronously (the interface allows it): the library awaits it either way, and this spares a promise.
  increment(key: string): ClientRateLimitInfo {
    let count = this.live(key);
    if (!count) {
      count = { totalHits: 0, resetTime: new Date(Date.now() + this.windowMs) };
      this.counts.set(key, count);
    }
    count.totalHits += 1;
    return { totalHits: count.totalHits, resetTime: count.resetTime };
  }

  async decrement(key: string): Promise<void> {
    const count = this.live(key);
    if (count && count.totalHits > 0) count.totalHits -= 1;
  }

  async resetKey(key: string): Promise<void> {
    this.counts.delete(key);
  }

  shutdown(): void {
    clearInterval(this.sweeper);
  }

  private live(key: string) {
    const count = this.counts.get(key);
    return count && count.resetTime.getTime() > Date.now() ? count : undefined;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, count] of this.counts) if (count.resetTime.getTime() <= now) this.counts.delete(key);
  }
}
