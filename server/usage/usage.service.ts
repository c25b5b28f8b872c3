import { Types } from 'mongoose';
import type { Models } from '../db/models.js';
import { AppError } from '../http/app-error.js';

/** The current billing period, `YYYY-MM` in UTC. */
export function currentPeriod(now = new Date()): string {
  return now.toISOString().slice(0, 7);
}

/** Counts an organization's knowledge (provided by the knowledge capability). */
export type StorageCounter = (
  organizationId: Types.ObjectId,
) => Promise<{ sources: number; characters: number; chunks: number }>;

export interface QuotaState {
  used: number;
  limit: number;
  /** Set once 80% of the quota is used, for the warning header. */
  warning: string | null;
}

/** Counts messages, tokens and model failures per organization and month, and enforces the message quota. */
export class UsageService {
  constructor(
    private readonly models: Models,
    private readonly defaultMonthlyQuota: number,
    private readonly countStorage: StorageCounter = async () => ({ sources: 0, characters: 0, chunks: 0 }),
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

  /** Atomic upsert with `$inc`, so concurrent writers never lose a count. */
  async increment(
    organizationId: string,
    counters: Partial<
      Record<'messages' | 'promptTokens' | 'completionTokens' | 'modelFailures' | 'modelRetries', number>
    >,
  ) {
    await this.models.Usage.updateOne(
      { organizationId: new Types.ObjectId(organizationId), period: currentPeriod() },
      { $inc: counters },
      { upsert: true },
    );
  }

  /** Throws `QuotaExceededError` when the month's messages are used up; otherwise says how close it is. */
  async checkQuota(organizationId: string): Promise<QuotaState> {
    const orgId = new Types.ObjectId(organizationId);
    const [usage, org] = await Promise.all([
      this.models.Usage.findOne({ organizationId: orgId, period: currentPeriod() }, { messages: 1 }).lean(),
      this.models.Organization.findById(orgId, { monthlyMessageQuota: 1 }).lean(),
    ]);
    const limit = org?.monthlyMessageQuota ?? this.defaultMonthlyQuota;
    const used = usage?.messages ?? 0;
    if (used >= limit) {
      throw new AppError('QuotaExceededError', {
        message: `This organization has used all ${limit} messages of its monthly quota; it resets on the 1st (UTC)`,
        details: { used, limit, period: currentPeriod() },
      });
    }
    const warning =
      used >= limit * 0.8
        ? `${Math.floor((used / limit) * 100)}% of the monthly message quota (${limit}) is used`
        : null;
    return { used, limit, warning };
  }

  async report(organizationId: string) {
    const orgId = new Types.ObjectId(organizationId);
    const period = currentPeriod();
    const [usage, org, storage] = await Promise.all([
      this.models.Usage.findOne({ organizationId: orgId, period }).lean(),
      this.models.Organization.findById(orgId, { monthlyMessageQuota: 1 }).lean(),
      this.countStorage(orgId),
    ]);
    const prompt = usage?.promptTokens ?? 0;
    const completion = usage?.completionTokens ?? 0;
    return {
      period,
      messages: { used: usage?.messages ?? 0, limit: org?.monthlyMessageQuota ?? this.defaultMonthlyQuota },
      tokens: { prompt, completion, total: prompt + completion },
      modelFailures: usage?.modelFailures ?? 0,
      modelRetries: usage?.modelRetries ?? 0,
      sources: storage.sources,
      storage: { characters: storage.characters, chunks: storage.chunks },
    };
  }
}
