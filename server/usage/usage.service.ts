import { Types } from 'mongoose';
import type { OrganizationSettingsLookup } from '../organizations/organization-settings.js';
import type { UsageModel } from './usage.model.js';
import { AppError } from '../errors/app-error.js';
import { planOf, type Plan } from '../organizations/plans.js';
import type { EventPublisher } from '../events/domain-events.js';
import type { Logger } from '../logger.js';
import { KNOWN_PERIODS_MAX, UsageWrites, type Counter } from './usage-writes.js';

/** The last period worked out and the instants it spans (every turn asks for it, twice). */
let lastPeriod = { period: '', from: 0, until: 0 };

/** The current billing period, `YYYY-MM` in UTC. */
export function currentPeriod(now?: Date): string {
  const at = now ? now.getTime() : Date.now();
  if (at >= lastPeriod.from && at < lastPeriod.until) return lastPeriod.period;
  const date = new Date(at);
  const from = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  lastPeriod = { period: date.toISOString().slice(0, 7), from, until: periodResetsAt(date).getTime() };
  return lastPeriod.period;
}

/** When the period of `now` ends: the first instant of the next month, UTC. */
export function periodResetsAt(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

/** Counts an organization's knowledge (provided by the knowledge capability). */
export type StorageCounter = (
  organizationId: Types.ObjectId,
) => Promise<{ sources: number; characters: number; chunks: number }>;

/** One message taken from the month's quota before a turn runs; released if the turn answers nothing. */
export interface QuotaReservation {
  used: number;
  /** 0 = unlimited. */
  limit: number;
  /** Set once 80% of the quota is used, for the warning header. */
  warning: string | null;
  /** Gives the message back; safe to call more than once. */
  release(): Promise<void>;
}

/** The share of the monthly quota from which turns carry a warning and `quota.warning` is announced. */
const WARNING_RATIO = 0.8;

/** Counts messages, tokens and model failures per organization and month, and enforces the message quota. */
export class UsageService {
  /** The period documents' writes: counters and quota takes, grouped per organization and tick. */
  private readonly writes: UsageWrites;
  /** Organization-periods whose warning is known to be claimed (here or by another node). */
  private readonly warnedPeriods = new Set<string>();

  constructor(
    private readonly models: { Usage: UsageModel },
    /** Asks the organizations capability for the plan and quota override. */
    private readonly organizationSettings: OrganizationSettingsLookup,
    /** Each plan's monthly message quota (0 = unlimited). */
    private readonly planQuotas: Record<Plan, number>,
    private readonly countStorage: StorageCounter = async () => ({ sources: 0, characters: 0, chunks: 0 }),
    /** Announces `quota.warning`; its failures are logged, never thrown into a turn. */
    private readonly notices: { events: EventPublisher; logger: Logger } | null = null,
  ) {
    this.writes = new UsageWrites(models.Usage);
  }

  async recordMessage(
    organizationId: string,
    tokens: { prompt: number; completion: number } = { prompt: 0, completion: 0 },
  ) {
    await this.increment(organizationId, {
      messages: 1,
      promptTokens: tokens.prompt,
      completionTokens: tokens.completion,
    });
  }

  async recordModelFailure(organizationId: string) {
    await this.increment(organizationId, { modelFailures: 1 });
  }

  async recordModelRetries(organizationId: string, retries: number) {
    if (retries > 0) await this.increment(organizationId, { modelRetries: retries });
  }

  /** Adds `counters` to this month's usage of the organization (see `UsageWrites.add`). */
  async increment(organizationId: string, counters: Partial<Record<Counter, number>>) {
    await this.writes.add(organizationId, currentPeriod(), counters);
  }

  /** The organization's monthly message quota: its own when the operator set one, else its plan's (0 = unlimited). */
  async monthlyLimit(organizationId: string): Promise<{ plan: Plan; limit: number }> {
    const org = await this.organizationSettings(organizationId);
    const plan = planOf(org?.plan);
    return { plan, limit: org?.monthlyMessageQuota ?? this.planQuotas[plan] };
  }

  /**
   * Takes one message from this month's quota in a single conditional `$inc`, so concurrent
   * turns can never pass the limit together; throws `QuotaExceededError` (with `Retry-After`
   * until the period resets) when none is left.
   */
  async reserveMessage(organizationId: string): Promise<QuotaReservation> {
    const orgId = new Types.ObjectId(organizationId);
    const period = currentPeriod();
    const [{ limit }] = await Promise.all([
      this.monthlyLimit(organizationId),
      this.writes.ensurePeriod(organizationId, period),
    ]);
    const used = await this.writes.takeOne(organizationId, period, limit);
    if (used === null) throw quotaExceeded(limit, period);
    const warn = limit > 0 && used >= limit * WARNING_RATIO;
    if (warn) this.announceWarningOnce(organizationId, period, used, limit);
    let released = false;
    return {
      used,
      limit,
      warning: warn ? `${Math.floor((used / limit) * 100)}% of the monthly message quota (${limit}) is used` : null,
      release: async () => {
        if (released) return;
        released = true;
        await this.models.Usage.updateOne(
          { organizationId: orgId, period, messages: { $gt: 0 } },
          { $inc: { messages: -1 } },
        );
      },
    };
  }

  /**
   * Announces `quota.warning` once per organization and period: the claim is one conditional update, so of
   * several nodes crossing the threshold together only one announces it. Not awaited by the turn.
   */
  private announceWarningOnce(organizationId: string, period: string, used: number, limit: number): void {
    const known = `${organizationId}:${period}`;
    if (!this.notices || this.warnedPeriods.has(known)) return;
    const { events, logger } = this.notices;
    this.models.Usage.updateOne(
      { organizationId: new Types.ObjectId(organizationId), period, quotaWarningAt: null },
      { $set: { quotaWarningAt: new Date() } },
    )
      .then((claim) => {
        if (this.warnedPeriods.size >= KNOWN_PERIODS_MAX) this.warnedPeriods.clear();
        this.warnedPeriods.add(known);
        if (claim.modifiedCount !== 1) return;
        return events.notifyDurably('quota.warning', {
          organizationId,
          quota: 'messages',
          period,
          used,
          limit,
          ratio: Number((used / limit).toFixed(4)),
        });
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'could not claim the monthly quota warning'));
  }

  async report(organizationId: string) {
    const orgId = new Types.ObjectId(organizationId);
    const period = currentPeriod();
    const [usage, { plan, limit }, storage] = await Promise.all([
      this.models.Usage.findOne({ organizationId: orgId, period }).lean(),
      this.monthlyLimit(organizationId),
      this.countStorage(orgId),
    ]);
    const prompt = usage?.promptTokens ?? 0;
    const completion = usage?.completionTokens ?? 0;
    return {
      period,
      plan,
      messages: {
        used: usage?.messages ?? 0,
        limit: limit > 0 ? limit : null,
        resetsAt: periodResetsAt().toISOString(),
      },
      tokens: { prompt, completion, total: prompt + completion },
      modelFailures: usage?.modelFailures ?? 0,
      modelRetries: usage?.modelRetries ?? 0,
      sources: storage.sources,
      storage: { characters: storage.characters, chunks: storage.chunks },
    };
  }
}

function quotaExceeded(limit: number, period: string): AppError {
  const resetsAt = periodResetsAt();
  const retryAfter = Math.max(1, Math.ceil((resetsAt.getTime() - Date.now()) / 1000));
  return new AppError('QuotaExceededError', {
    message: `This organization has used all ${limit} messages of its monthly quota; it resets at ${resetsAt.toISOString()} (retry after ${retryAfter} s), or ask the operator for a higher quota`,
    details: { used: limit, limit, period, resetsAt: resetsAt.toISOString(), retryAfter },
    headers: { 'Retry-After': String(retryAfter) },
  });
}
