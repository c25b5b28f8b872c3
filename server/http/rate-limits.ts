import { createHash } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, type ClientRateLimitInfo, type Options, type Store } from 'express-rate-limit';
import type { ApiKeyPrincipal } from '../api-keys/api-keys.service.js';
import { parseEnv, type Config } from '../config.js';
import { planDefaults, type Plan } from '../organizations/plans.js';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../logger.js';

/** Requests a key may make, by its organization's plan; 0 means unlimited. */
export interface PlanRateLimits {
  perMinute: number;
  burstPerSecond: number;
}

export interface RateLimitSettings {
  plans: Record<Plan, PlanRateLimits>;
  /** Per IP on public (widget) routes and on attempts without a valid key; 0 means unlimited. */
  publicPerMinute: number;
  /** Makes a store for one limiter (a shared Redis store when several nodes run); undefined = in-process. */
  storeFor?: (prefix: string) => Store | undefined;
}

/** The limits the environment sets (`RATE_LIMIT_<PLAN>_PER_MINUTE`, `…_PER_SECOND`, `PUBLIC_RATE_LIMIT_PER_MINUTE`). */
export function rateLimitsFromConfig(config: Config): RateLimitSettings {
  const plans = planDefaults(config);
  const pick = (plan: Plan) => ({ perMinute: plans[plan].perMinute, burstPerSecond: plans[plan].burstPerSecond });
  return {
    plans: { free: pick('free'), pro: pick('pro'), enterprise: pick('enterprise') },
    publicPerMinute: config.PUBLIC_RATE_LIMIT_PER_MINUTE,
  };
}

/** The limits of an environment that sets none of the variables. */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = rateLimitsFromConfig({ ...parseEnv({}), SECRET_KEY: '' });

/**
 * An in-process fixed window per key (the first hit of a key opens its window), counted synchronously: the
 * count a hit gets back is its own reservation, so concurrent requests cannot all read the same total.
 */
export class FixedWindowCounter {
  private readonly counts = new Map<string, { totalHits: number; resetTime: Date }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly windowMs: number) {
    this.sweeper = setInterval(() => this.sweep(), windowMs);
    this.sweeper.unref();
  }

  /** Counts a hit of `key` and answers the count with it (a copy) and when its window ends. */
  increment(key: string): { totalHits: number; resetTime: Date } {
    const now = Date.now();
    let count = this.counts.get(key);
    if (!count || count.resetTime.getTime() <= now) {
      count = { totalHits: 0, resetTime: new Date(now + this.windowMs) };
      this.counts.set(key, count);
    }
    count.totalHits += 1;
    return { totalHits: count.totalHits, resetTime: count.resetTime };
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, count] of this.counts) if (count.resetTime.getTime() <= now) this.counts.delete(key);
  }
}

/** The partition key of the RateLimit-Policy header (`pk`): a short, stable digest of the counted key. */
const partitionKeys = new Map<string, string>();
function partitionKeyOf(key: string): string {
  let pk = partitionKeys.get(key);
  if (pk === undefined) {
    pk = Buffer.from(createHash('sha256').update(key).digest('hex').slice(0, 12)).toString('base64');
    if (partitionKeys.size >= 10_000) partitionKeys.clear();
    partitionKeys.set(key, pk);
  }
  return pk;
}

/** Adds a value to a header that may already hold some (the burst and the minute windows each add theirs). */
function appendHeader(res: Response, name: string, value: string): void {
  const previous = res.getHeader(name);
  res.setHeader(
    name,
    previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [String(previous), value],
  );
}

/**
 * One fixed-window limit. Every request it applies to is counted with one atomic increment of the store
 * (the in-process counter, or Redis' INCR shared by every node) before it runs, and refused when its count
 * is over the limit; the standard headers (IETF draft 8, as express-rate-limit writes them) say the
 * policy, what remains and when the window resets. A limit of 0 means unlimited: such requests are not
 * counted and get no headers. A shared store that fails lets the request through uncounted.
 */
class RateWindow {
  private readonly seconds: number;
  private readonly windowSeconds: number;
  private readonly store: Pick<Store, 'increment'>;

  constructor(
    private readonly options: {
      windowMs: number;
      prefix: string;
      settings: RateLimitSettings;
      /** Whose limit it is, for the refusal's message ("for this API key"). */
      scope: string;
      logger?: Logger;
    },
  ) {
    this.seconds = Math.round(options.windowMs / 1000);
    this.windowSeconds = Math.ceil(options.windowMs / 1000);
    const shared = options.settings.storeFor?.(`rl:${options.prefix}:`);
    if (shared?.init) {
      // As express-rate-limit does: stores take the limiter's options (they read only the window), not awaited.
      void Promise.resolve()
        .then(() => shared.init?.({ windowMs: options.windowMs } as Options))
        .catch((error: unknown) => options.logger?.error({ err: error }, 'rate-limit store failed to start'));
    }
    this.store = shared ?? new FixedWindowCounter(options.windowMs);
  }

  /** Counts a hit of `key` against `limit` (0 = not counted) and calls `next`, with a RateLimitError when over. */
  take(res: Response, key: string, limit: number, label: string, next: NextFunction): void {
    if (limit === 0) return next();
    let counted: ReturnType<Store['increment']>;
    try {
      counted = this.store.increment(key);
    } catch (error) {
      return this.passUncounted(next, error);
    }
    if (counted instanceof Promise) {
      counted.then(
        (count) => this.decide(res, key, limit, label, count, next),
        (error: unknown) => this.passUncounted(next, error),
      );
    } else {
      this.decide(res, key, limit, label, counted, next);
    }
  }

  private decide(
    res: Response,
    key: string,
    limit: number,
    label: string,
    { totalHits, resetTime }: ClientRateLimitInfo,
    next: NextFunction,
  ): void {
    const { seconds, windowSeconds } = this;
    const name = `${label}${this.options.prefix}-${limit}-in-${seconds}s`;
    const now = Date.now();
    const resetSeconds = resetTime ? Math.max(0, Math.ceil((resetTime.getTime() - now) / 1000)) : windowSeconds;
    if (!res.headersSent) {
      appendHeader(res, 'RateLimit', `"${name}"; r=${Math.max(limit - totalHits, 0)}; t=${resetSeconds}`);
      appendHeader(res, 'RateLimit-Policy', `"${name}"; q=${limit}; w=${windowSeconds}; pk=:${partitionKeyOf(key)}:`);
    }
    if (totalHits <= limit) return next();
    const retryAfter = Math.max(1, resetTime ? Math.ceil((resetTime.getTime() - now) / 1000) : seconds);
    next(
      new AppError('RateLimitError', {
        message: `Rate limit of ${limit} requests per ${seconds === 1 ? 'second' : `${seconds} seconds`} ${this.options.scope} exceeded; retry after ${retryAfter} s`,
        details: { limit, windowSeconds: seconds, retryAfter },
        headers: { 'Retry-After': String(retryAfter) },
      }),
    );
  }

  private passUncounted(next: NextFunction, error: unknown): void {
    // A shared store that is briefly unreachable must not take the API down with it: requests pass uncounted.
    this.options.logger?.error({ err: error }, 'rate-limit store failed; passing the request uncounted');
    next();
  }
}

const ipOf = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown');
const principalOf = (res: Response) => res.locals.principal as ApiKeyPrincipal;

/**
 * Per-key limits: a per-second burst limit, then a per-minute limit, each the organization's
 * own when the operator set one, else its plan's. A hit refused by the burst limit is not
 * counted against the minute.
 */
export function keyRateLimit(settings: RateLimitSettings, logger?: Logger): RequestHandler {
  const scope = 'for this API key';
  const burst = new RateWindow({ windowMs: 1000, prefix: 'burst', settings, scope, logger });
  const minute = new RateWindow({ windowMs: 60_000, prefix: 'minute', settings, scope, logger });
  return (_req, res, next) => {
    const principal = principalOf(res);
    const plan = settings.plans[principal.plan] ?? settings.plans.free;
    const perMinute = principal.rateLimits?.perMinute ?? plan.perMinute;
    const perSecond = principal.rateLimits?.burstPerSecond ?? plan.burstPerSecond;
    const label = `${principal.plan}-`;
    burst.take(res, principal.keyId, perSecond, label, (error?: unknown) =>
      error ? next(error) : minute.take(res, principal.keyId, perMinute, label, next),
    );
  };
}

/** Per-IP limit for public routes and for requests that do not carry a valid key. */
export function ipRateLimit(settings: RateLimitSettings, prefix: string, logger?: Logger): RequestHandler {
  const window = new RateWindow({ windowMs: 60_000, prefix, settings, scope: 'from this address', logger });
  return (req, res, next) => window.take(res, ipOf(req), settings.publicPerMinute, '', next);
}
