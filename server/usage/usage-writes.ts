/**
 * The writes to an organization's usage document of a period: creating it once, adding counters, and taking
 * messages from the quota, those of one tick grouped into one command per organization-period (see `batches`).
 * The quota's rules (which limit, the warning, the refusal) are `UsageService`'s.
 */
import { Types } from 'mongoose';
import type { UsageModel } from './usage.model.js';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import { KeyedBatches, succeeded, type ItemOutcome } from '../db/group-commit.js';

export type Counter = 'messages' | 'promptTokens' | 'completionTokens' | 'modelFailures' | 'modelRetries';

/** A write to an organization's period: counters to add, or one message to take under `limit` (0 = unlimited). */
type UsageWrite = { counters: Partial<Record<Counter, number>> } | { limit: number };

/** The most organization-periods a process remembers in one set before forgetting them all. */
export const KNOWN_PERIODS_MAX = 10_000;
/**
 * How long counters wait for a take of the same organization's quota to be written with (see `add`): under
 * load one comes within a few ms; alone, a turn's counters are written this much later (the turn waits for them).
 */
const COUNTERS_LINGER_MS = 5;

export class UsageWrites {
  /** Organization-periods whose usage document is known to exist, to skip the upsert before each reservation. */
  private readonly knownPeriods = new Set<string>();

  constructor(private readonly Usage: UsageModel) {}

  /**
   * Atomic `$inc` on the period's document, so concurrent writers never lose a count; those of one tick are
   * added up into one write (each caller still waits for it), which also takes the quota of the turns reserving
   * in that tick (see `batches`). Counters wait up to `COUNTERS_LINGER_MS` for a reservation's take to ride on:
   * under load a turn's counters then cost no write of their own.
   */
  async add(organizationId: string, period: string, counters: Partial<Record<Counter, number>>) {
    await this.ensurePeriod(organizationId, period);
    await this.batches.submit(`${organizationId} ${period}`, { counters }, { lingerMs: COUNTERS_LINGER_MS });
  }

  /**
   * Takes one message under `limit` (0 = unlimited) from the period's document, which `ensurePeriod` created:
   * the count after it, or null when the quota has no room left.
   */
  async takeOne(organizationId: string, period: string, limit: number): Promise<number | null> {
    const orgId = new Types.ObjectId(organizationId);
    let used = await this.batches.submit(`${organizationId} ${period}`, { limit });
    if (used === null && !(await this.Usage.exists({ organizationId: orgId, period }))) {
      // The document this process remembered is gone (removed by an operator): create it again.
      this.knownPeriods.delete(`${organizationId}:${period}`);
      await this.ensurePeriod(organizationId, period);
      used = await this.takeMessages(orgId, period, 1, limit);
    }
    return used;
  }

  /**
   * One organization's period's writes of a tick (or submitted while its previous write was in flight), as one
   * command: the counters added up into one `$inc`, which also takes one message for each turn reserving (then a
   * `findOneAndUpdate` conditional on the quota having room for all of them). A take refused there is retried
   * alone, each in order, after the counters are added on their own, until the quota has no room left. A take
   * gets the count after its own message, or null when refused; an increment gets null.
   */
  private readonly batches = new KeyedBatches<UsageWrite, number | null>(async (key, items) => {
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
    await this.Usage.collection.updateOne({ organizationId: orgId, period }, { $inc });
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
    const after = (await this.Usage.collection.findOneAndUpdate(
      filter,
      { $inc: { ...counters, messages: count } },
      { returnDocument: 'after', projection: { messages: 1 } },
    )) as { messages?: number } | null;
    return after ? (after.messages ?? count) : null;
  }

  /**
   * Creates the period's document if missing, with `$setOnInsert` only: an upsert that also
   * increments can race on the unique index (the embedded engine reports the loser as a
   * duplicate), while this one may simply lose and the document exists either way.
   */
  async ensurePeriod(organizationId: string, period: string): Promise<void> {
    const known = `${organizationId}:${period}`;
    if (this.knownPeriods.has(known)) return;
    try {
      await this.Usage.updateOne(
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
