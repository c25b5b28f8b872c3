import { Types } from 'mongoose';
import type { OrganizationSettingsLookup } from '../organizations/organization-settings.js';
import type { UsageModel } from './usage.model.js';
import { AppError } from '../errors/app-error.js';
import { planOf, type Plan } from '../organizations/plans.js';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import type { EventPublisher } from '../events/domain-events.js';
import type { Logger } from '../logger.js';
import { KeyedBatches, succeeded, type ItemOutcome } from '../db/group-commit.js';

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

type Counter = 'messages' | 'promptTokens' | 'completionTokens' | 'modelFailures' | 'modelRetries';

/** A write to an organization's period: counters to add, or one message to take under `limit` (0 = unlimited). */
type UsageWrite = { counters: Partial<Record<Counter, number>> } | { limit: number };

const KNOWN_PERIODS_MAX = 10_000;
/**
 * How long counters wait for a take of the same organization's quota to be written with (see `increment`): under
 * load one comes within a few ms; alone, a turn's counters are written this much later (the turn waits for them).
 */
const COUNTERS_LINGER_MS = 5;
/** The share of the monthly quota from which turns carry a warning and `quota.warning` is announced. */
const WARNING_RATIO = 0.8;

/** Counts messages, tokens and model failures per organization and month, and enforces the message quota. */
export class UsageService {
  /** Organization-periods whose usage document is known to exist, to skip the upsert before each reservation. */
  private readonly knownPeriods = new Set<string>();
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
  ) {}

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

  /**
   * Atomic `$inc` on the period's document, so concurrent writers never lose a count; those of one tick are
   * added up into one write (each caller still waits for it), which also takes the quota of the turns reserving
   * in that tick (see `writes`). Counters wait up to `COUNTERS_LINGER_MS` for a reservation's take to ride on:
   * under load a turn's counters then cost no write of their own.
   */
  async increment(organizationId: string, counters: Partial<Record<Counter, number>>) {
    const period = currentPeriod();
    await this.ensurePeriod(organizationId, period);
    await this.writes.submit(`${organizationId} ${period}`, { counters }, { lingerMs: COUNTERS_LINGER_MS });
  }

  /**
   * One organization's period's writes of a tick (or submitted while its previous write was in flight), as one
   * command: the counters added up into one `$inc`, which also takes one message for each turn reserving (then a
   * `findOneAndUpdate` conditional on the quota having room for all of them). A take refused there is retried
   * alone, each in order, after the counters are added on their own, until the quota has no room left. A take
   * gets the count after its own message, or null when refused; an increment gets null.
   */
  private readonly writes = new KeyedBatches<UsageWrite, number | null>(async (key, items) => {
    const [organizationId = '', period = ''] = key.split(' ');
    const orgId = new Types.ObjectId(organizationId);
    const $inc: Partial<Record<Counter, number>> = {};
    const limits: number[] = [];
    for (const item of items) {
      if ('limit' in item) {
        limits.push(item.limit);
        continue;
      }
      for (const [counter, by] of Object.entries(item.counters) as Array<[Counter, number]>) {
        $inc[counter] = ($inc[counter] ?? 0) + by;
      }
    }
    // Messages counted outside a reservation would move the count the takes' condition reads: written apart.
    const apart = limits.length === 0 || $inc.messages !== undefined;
    // Written apart, the counters and the takes fail alone, as two writes do.
    let counted: ItemOutcome<number | null> = succeeded(null);
    if (apart && Object.keys($inc).length > 0) {
      counted = await this.addCounters(orgId, period, $inc).then(
        () => succeeded(null),
        (error: unknown) => ({ ok: false, error }),
      );
    }
    let taken: Array<ItemOutcome<number | null>> = [];
    if (limits.length > 0) {
      try {
        taken = await this.take(orgId, period, limits, apart ? {} : $inc);
      } catch (error) {
        // One write for both: neither is known written.
        if (!apart) throw error;
        taken = limits.map(() => ({ ok: false, error }));
      }
    }
    return items.map((item) => ('limit' in item ? taken.shift()! : counted));
  });

  /**
   * Takes one message for each of `limits` in one conditional `$inc` with `counters`; when the quota has no room
   * for all of them, adds the counters alone, then takes one message each, in order, until none is left.
   */
  private async take(
    orgId: Types.ObjectId,
    period: string,
    limits: number[],
    counters: Partial<Record<Counter, number>>,
  ): Promise<Array<ItemOutcome<number | null>>> {
    // The strictest limit asked (a quota changed between two turns of the batch) holds for the whole take.
    const positive = limits.filter((each) => each > 0);
    const strictest = positive.length > 0 ? Math.min(...positive) : 0;
    const after = await this.takeMessages(orgId, period, limits.length, strictest, counters);
    if (after !== null) return limits.map((_, index) => succeeded(after - limits.length + 1 + index));
    // Refused, so nothing of it was written.
    if (Object.keys(counters).length > 0) await this.addCounters(orgId, period, counters);
    if (limits.length === 1) return [succeeded(null)];
    const outcomes: Array<ItemOutcome<number | null>> = [];
    for (const each of limits) {
      // A take that fails is that turn's failure alone; the others still take theirs.
      outcomes.push(
        await this.takeMessages(orgId, period, 1, each).then(succeeded, (error: unknown) => ({ ok: false, error })),
      );
    }
    return outcomes;
  }

  /** Adds counters to the period's document (it exists: `ensurePeriod`). */
  private async addCounters(orgId: Types.ObjectId, period: string, $inc: Partial<Record<Counter, number>>) {
    // The driver's update, without mongoose's casting.
    await this.models.Usage.collection.updateOne({ organizationId: orgId, period }, { $inc });
  }

  /** Takes `count` messages in one conditional `$inc` (all or none); the count after it, or null when refused. */
  private async takeMessages(
    orgId: Types.ObjectId,
    period: string,
    count: number,
    limit: number,
    counters: Partial<Record<Counter, number>> = {},
  ) {
    const filter =
      limit > 0
        ? { organizationId: orgId, period, messages: { $lte: limit - count } }
        : { organizationId: orgId, period };
    // Plain values of the schema's types: the driver's call, without mongoose's casting.
    const after = (await this.models.Usage.collection.findOneAndUpdate(
      filter,
      { $inc: { ...counters, messages: count } },
      { returnDocument: 'after', projection: { messages: 1 } },
    )) as { messages?: number } | null;
    return after ? (after.messages ?? count) : null;
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
      this.ensurePeriod(organizationId, period),
    ]);
    let used = await this.writes.submit(`${organizationId} ${period}`, { limit });
    if (used === null && !(await this.models.Usage.exists({ organizationId: orgId, period }))) {
      // The document this process remembered is gone (removed by an operator): create it again.
      this.knownPeriods.delete(`${organizationId}:${period}`);
      await this.ensurePeriod(organizationId, period);
      used = await this.takeMessages(orgId, period, 1, limit);
    }
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

  /**
   * Creates the period's document if missing, with `$setOnInsert` only: an upsert that also
   * increments can race on the unique index (the embedded engine reports the loser as a
   * duplicate), while this one may simply lose and the document exists either way.
   */
  private async ensurePeriod(organizationId: string, period: string): Promise<void> {
    const known = `${organizationId}:${period}`;
    if (this.knownPeriods.has(known)) return;
    try {
      await this.models.Usage.updateOne(
        { organizationId: new Types.ObjectId(organizationId), period },
        { $setOnInsert: { messages: 0 } },
        { upsert: true },
      );
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
    }
    if (this.knownPeriods.size >= KNOWN_PERIODS_MAX) this.knownPeriods.clear();
    this.knownPeriods.add(known);
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
