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
  const { logger } = options;
  return rateLimit({
    windowMs: options.windowMs,
    limit: options.limit,
    // 0 = unlimited: such requests are not counted at all (the library would read 0 as "refuse all").
    skip: (req, res) => options.limit(req, res) === 0,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: (req, res) =>
      `${options.label?.(res) ?? ''}${options.prefix}-${options.limit(req, res)}-in-${seconds}s`,
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
      const reset = (req as { rateLimit?: RateLimitInfo }).rateLimit?.resetTime;
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
}

const ipOf = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown');
const principalOf = (res: Response) => res.locals.principal as ApiKeyPrincipal;

/**
 * Per-key limits: a per-second burst limit, then a per-minute limit, each the organization's
 * own when the operator set one, else its plan's.
 */
export function keyRateLimit(settings: RateLimitSettings, logger?: Logger): RequestHandler {
  const keyOf = (_req: Request, res: Response) => principalOf(res).keyId;
  const limitsOf = (res: Response): PlanRateLimits => {
    const principal = principalOf(res);
    const plan = settings.plans[principal.plan] ?? settings.plans.free;
    return {
      perMinute: principal.rateLimits?.perMinute ?? plan.perMinute,
      burstPerSecond: principal.rateLimits?.burstPerSecond ?? plan.burstPerSecond,
    };
  };
  const burst = limiter({
    windowMs: 1000,
    limit: (_req, res) => limitsOf(res).burstPerSecond,
    prefix: 'burst',
    key: keyOf,
    label: (res) => `${principalOf(res).plan}-`,
    settings,
    scope: 'for this API key',
    logger,
  });
  const minute = limiter({
    windowMs: 60_000,
    limit: (_req, res) => limitsOf(res).perMinute,
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
