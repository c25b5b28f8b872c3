import { hash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit, type RateLimitInfo, type Store } from 'express-rate-limit';
import type { ApiKeyPrincipal } from '../api-keys/api-keys.service.js';
import { parseEnv, type Config } from '../config.js';
import { planDefaults, type Plan } from '../organizations/plans.js';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../logger.js';
import { WindowCounter } from './window-counter.js';

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

type LimitOf = (req: Request, res: Response) => number;

/**
 * The partition key of express-rate-limit's draft-8 `RateLimit-Policy` (`pk`): the first 12 hex digits of the
 * key's SHA-256, in base64, as the library computes it, kept per key rather than hashed twice per request.
 */
const partitionKeys = new Map<string, string>();
function partitionKeyOf(key: string): string {
  let partitionKey = partitionKeys.get(key);
  if (partitionKey === undefined) {
    partitionKey = Buffer.from(hash('sha256', key, 'hex').slice(0, 12)).toString('base64');
    if (partitionKeys.size >= 10_000) partitionKeys.clear();
    partitionKeys.set(key, partitionKey);
  }
  return partitionKey;
}

function limiter(options: {
  windowMs: number;
  limit: LimitOf;
  prefix: string;
  key: (req: Request, res: Response) => string;
  /** Names the policy in the RateLimit headers (e.g. the plan). */
  label?: (res: Response) => string;
  settings: RateLimitSettings;
  scope: string;
  logger?: Logger;
}): RequestHandler {
  const seconds = Math.round(options.windowMs / 1000);
  const windowSeconds = Math.ceil(options.windowMs / 1000);
  const { logger } = options;
  // Each limiter keeps its count under its own name, so one that passed a request uncounted (a store failure)
  // is not mistaken for the one before it.
  const property = `rateLimit:${options.prefix}`;
  const infoOf = (req: Request) => (req as unknown as Record<string, RateLimitInfo | undefined>)[property];
  const count = rateLimit({
    windowMs: options.windowMs,
    limit: options.limit,
    // 0 = unlimited: such requests are not counted at all (the library would read 0 as "refuse all").
    skip: (req, res) => options.limit(req, res) === 0,
    requestPropertyName: property,
    // The draft-8 headers are written below from the library's count, with the partition key's hash kept
    // per key: the library would hash the key for each window on every request.
    standardHeaders: false,
    legacyHeaders: false,
    // In process, a counter that answers each hit its own count (the library's MemoryStore hands back its
    // live counter, so concurrent hits would all read the last total).
    store: options.settings.storeFor?.(`rl:${options.prefix}:`) ?? new WindowCounter(),
    // A shared store that is briefly unreachable must not take the API down with it: requests pass uncounted.
    passOnStoreError: true,
    ...(logger && {
      logger: {
        error: (error: unknown) =>
          logger.error({ err: error }, 'rate-limit store failed; passing the request uncounted'),
        warn: (warning: unknown) => logger.warn({ err: warning }, 'rate-limit configuration warning'),
      },
    }),
    keyGenerator: (req, res) => options.key(req, res),
    handler: (req, res, next) => {
      const limit = options.limit(req, res);
      const reset = infoOf(req)?.resetTime;
      const retryAfter = Math.max(1, reset ? Math.ceil((reset.getTime() - Date.now()) / 1000) : seconds);
      next(
        new AppError('RateLimitError', {
          message: `Rate limit of ${limit} requests per ${seconds === 1 ? 'second' : `${seconds} seconds`} ${options.scope} exceeded; retry after ${retryAfter} s`,
          details: { limit, windowSeconds: seconds, retryAfter },
          headers: { 'Retry-After': String(retryAfter) },
        }),
      );
    },
  });
  // What `standardHeaders: 'draft-8'` writes, on a counted request whether it passes or is refused.
  return (req, res, next) =>
    count(req, res, (error?: unknown) => {
      const info = infoOf(req);
      if (info && !res.headersSent) {
        const name = `${options.label?.(res) ?? ''}${options.prefix}-${info.limit}-in-${seconds}s`;
        const reset = info.resetTime
          ? Math.max(0, Math.ceil((info.resetTime.getTime() - Date.now()) / 1000))
          : windowSeconds;
        res.append('RateLimit', `"${name}"; r=${info.remaining}; t=${reset}`);
        res.append(
          'RateLimit-Policy',
          `"${name}"; q=${info.limit}; w=${windowSeconds}; pk=:${partitionKeyOf(info.key)}:`,
        );
      }
      next(error);
    });
}

const ipOf = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown');
const principalOf = (res: Response) => res.locals.principal as ApiKeyPrincipal;

/**
 * Per-key limits: a per-second burst limit, then a per-minute limit, each the organization's
 * own when the operator set one, else its plan's.
 */
export function keyRateLimit(settings: RateLimitSettings, logger?: Logger): RequestHandler {
  const keyOf = (_req: Request, res: Response) => principalOf(res).keyId;
  const planOf = (principal: ApiKeyPrincipal) => settings.plans[principal.plan] ?? settings.plans.free;
  // Read several times per request (skip, limit, name), so without building an object each time.
  const burstOf = (res: Response) => {
    const principal = principalOf(res);
    return principal.rateLimits?.burstPerSecond ?? planOf(principal).burstPerSecond;
  };
  const perMinuteOf = (res: Response) => {
    const principal = principalOf(res);
    return principal.rateLimits?.perMinute ?? planOf(principal).perMinute;
  };
  const burst = limiter({
    windowMs: 1000,
    limit: (_req, res) => burstOf(res),
    prefix: 'burst',
    key: keyOf,
    label: (res) => `${principalOf(res).plan}-`,
    settings,
    scope: 'for this API key',
    logger,
  });
  const minute = limiter({
    windowMs: 60_000,
    limit: (_req, res) => perMinuteOf(res),
    prefix: 'minute',
    key: keyOf,
    label: (res) => `${principalOf(res).plan}-`,
    settings,
    scope: 'for this API key',
    logger,
  });
  return (req, res, next) => burst(req, res, (error?: unknown) => (error ? next(error) : minute(req, res, next)));
}

/** Per-IP limit for public routes and for requests that do not carry a valid key. */
export function ipRateLimit(settings: RateLimitSettings, prefix: string, logger?: Logger): RequestHandler {
  return limiter({
    windowMs: 60_000,
    limit: () => settings.publicPerMinute,
    prefix,
    key: ipOf,
    settings,
    scope: 'from this address',
    logger,
  });
}
