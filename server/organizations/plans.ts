import type { Config } from '../config.js';

/** The plans an organization can be on; each has defaults from the environment. */
export const PLANS = ['free', 'pro', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

/** What a plan (or an organization's override) allows; 0 means unlimited. */
export interface PlanLimits {
  perMinute: number;
  burstPerSecond: number;
  monthlyMessages: number;
}

/** An organization's own limits, set by the operator; null keeps the plan's default. */
export interface LimitOverrides {
  perMinute: number | null;
  burstPerSecond: number | null;
  monthlyMessages: number | null;
}

export const NO_OVERRIDES: LimitOverrides = { perMinute: null, burstPerSecond: null, monthlyMessages: null };

export function isPlan(value: unknown): value is Plan {
  return (PLANS as readonly unknown[]).includes(value);
}

/** A stored plan name, read defensively: anything unknown counts as free. */
export function planOf(value: unknown): Plan {
  return isPlan(value) ? value : 'free';
}

/** Every plan's defaults, from `RATE_LIMIT_<PLAN>_PER_MINUTE`, `…_PER_SECOND` and `MONTHLY_MESSAGE_QUOTA_<PLAN>`. */
export function planDefaults(config: Config): Record<Plan, PlanLimits> {
  return {
    free: {
      perMinute: config.RATE_LIMIT_FREE_PER_MINUTE,
      burstPerSecond: config.RATE_LIMIT_FREE_PER_SECOND,
      monthlyMessages: config.MONTHLY_MESSAGE_QUOTA_FREE ?? config.MONTHLY_MESSAGE_QUOTA,
    },
    pro: {
      perMinute: config.RATE_LIMIT_PRO_PER_MINUTE,
      burstPerSecond: config.RATE_LIMIT_PRO_PER_SECOND,
      monthlyMessages: config.MONTHLY_MESSAGE_QUOTA_PRO,
    },
    enterprise: {
      perMinute: config.RATE_LIMIT_ENTERPRISE_PER_MINUTE,
      burstPerSecond: config.RATE_LIMIT_ENTERPRISE_PER_SECOND,
      monthlyMessages: config.MONTHLY_MESSAGE_QUOTA_ENTERPRISE,
    },
  };
}

/** Each plan's monthly message quota. */
export function monthlyQuotas(table: Record<Plan, PlanLimits>): Record<Plan, number> {
  return {
    free: table.free.monthlyMessages,
    pro: table.pro.monthlyMessages,
    enterprise: table.enterprise.monthlyMessages,
  };
}

/** The overrides stored on an organization document. */
export function overridesOf(org: {
  rateLimitPerMinute?: number | null;
  rateLimitBurstPerSecond?: number | null;
  monthlyMessageQuota?: number | null;
}): LimitOverrides {
  return {
    perMinute: org.rateLimitPerMinute ?? null,
    burstPerSecond: org.rateLimitBurstPerSecond ?? null,
    monthlyMessages: org.monthlyMessageQuota ?? null,
  };
}
