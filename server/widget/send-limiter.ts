/** How many messages one widget socket may send: a burst, refilled at a steady rate. */
export interface SendLimit {
  burst: number;
  perMinute: number;
}

export const DEFAULT_SEND_LIMIT: SendLimit = { burst: 5, perMinute: 12 };

/**
 * A token bucket per socket. In memory on purpose: a visitor who reconnects to another node
 * gets a fresh bucket, which is fine for a limit meant to stop a runaway page, not an attacker
 * (the per-organization quota and the IP limits on the HTTP routes cover those).
 */
export class SendLimiter {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly limit: SendLimit,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = limit.burst;
    this.updatedAt = now();
  }

  /** Takes one token; returns 0 when allowed, else the milliseconds until the next token. */
  take(): number {
    const now = this.now();
    const refillPerMs = this.limit.perMinute / 60_000;
    this.tokens = Math.min(this.limit.burst, this.tokens + (now - this.updatedAt) * refillPerMs);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - this.tokens) / refillPerMs);
  }
}
