import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit, type RateLimitInfo, type Store } from 'express-rate-limit';
import type { ApiKeyPrincipal } from '../api-keys/api-keys.service.js';
import { AppError } from './app-error.js';

/** Requests a key may make, by its organization's plan. */
export interface PlanLimits {
  perMinute: number;
  burstPerSecond: number;
}

export interface RateLimitSettings {
  plans: Record<'free' | 'pro', PlanLimits>;
  /** Per IP on public (widget) routes and on attempts without a valid key. */
  publicPerMinute: number;
  /** Makes a store for one limiter (a shared Redis store when several nodes run); undefined = in-process. */
  storeFor?: (prefix: string) => Store | undefined;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  plans: {
    free: { perMinute: 60, burstPerSecond: 10 },
    pro: { perMinute: 600, burstPerSecond: 50 },
  },
  publicPerMinute: 120,
};

function limiter(options: {
  windowMs: number;
  limit: number;
  prefix: string;
  key: (req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1]) => string;
  settings: RateLimitSettings;
  scope: string;
}): RequestHandler {
  const seconds = Math.round(options.windowMs / 1000);
  return rateLimit({
    windowMs: options.windowMs,
    limit: options.limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: `${options.prefix}-${options.limit}-in-${seconds}s`,
    store: options.settings.storeFor?.(`rl:${options.prefix}:`),
    // A shared store that is briefly unreachable must not take the API down with it: requests pass uncounted.
    passOnStoreError: true,
    keyGenerator: (req, res) => options.key(req, res),
    handler: (req, _res, next) => {
      const reset = (req as { rateLimit?: RateLimitInfo }).rateLimit?.resetTime;
      const retryAfter = Math.max(1, reset ? Math.ceil((reset.getTime() - Date.now()) / 1000) : seconds);
      next(
        new AppError('RateLimitError', {
          message: `Rate limit of ${options.limit} requests per ${seconds === 1 ? 'second' : `${seconds} seconds`} ${options.scope} exceeded; retry after ${retryAfter} s`,
          details: { limit: options.limit, windowSeconds: seconds, retryAfter },
          headers: { 'Retry-After': String(retryAfter) },
        }),
      );
    },
  });
}

const ipOf = (req: Parameters<RequestHandler>[0]) => ipKeyGenerator(req.ip ?? 'unknown');

/** Per-key limits chosen by plan: a per-second burst limit, then a per-minute limit. */
export function keyRateLimit(settings: RateLimitSettings): RequestHandler {
  const byPlan = Object.fromEntries(
    (['free', 'pro'] as const).map((plan) => {
      const limits = settings.plans[plan];
      const keyOf = (_req: unknown, res: Parameters<RequestHandler>[1]) =>
        (res.locals.principal as ApiKeyPrincipal).keyId;
      const burst = limiter({
        windowMs: 1000,
        limit: limits.burstPerSecond,
        prefix: `${plan}-burst`,
        key: keyOf,
        settings,
        scope: 'for this API key',
      });
      const minute = limiter({
        windowMs: 60_000,
        limit: limits.perMinute,
        prefix: `${plan}-minute`,
        key: keyOf,
        settings,
        scope: 'for this API key',
      });
      return [plan, [burst, minute]];
    }),
  ) as Record<'free' | 'pro', RequestHandler[]>;

  return (req, res, next) => {
    const [burst, minute] = byPlan[(res.locals.principal as ApiKeyPrincipal).plan];
    burst!(req, res, (error?: unknown) => (error ? next(error) : minute!(req, res, next)));
  };
}

/** Per-IP limit for public routes and for requests that do not carry a valid key. */
export function ipRateLimit(settings: RateLimitSettings, prefix: string): RequestHandler {
  return limiter({
    windowMs: 60_000,
    limit: settings.publicPerMinute,
    prefix,
    key: ipOf,
    settings,
    scope: 'from this address',
  });
}
