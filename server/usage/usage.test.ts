import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AppError } from '../errors/app-error.js';
import { startTestApp, type TestApp } from '../test/test-app.js';
import type { DomainEvents } from '../events/domain-events.js';
import { monthlyQuotas, planDefaults } from '../organizations/plans.js';
import { currentPeriod, periodResetsAt, UsageService } from './usage.service.js';

interface UsageReport {
  period: string;
  plan: string;
  messages: { used: number; limit: number | null; resetsAt: string };
  tokens: { prompt: number; completion: number; total: number };
  sources: number;
  storage: { characters: number; chunks: number };
}

describe('usage and the monthly message quota', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { MONTHLY_MESSAGE_QUOTA: '10' } });
  });
  afterAll(() => t.stop());

  const usage = () => t.app.services.usage;

  it('reports zero usage for a new organization, with the quota from MONTHLY_MESSAGE_QUOTA', async () => {
    const org = await t.createOrg('Fresh');
    const res = await org.api.get<UsageReport>('/api/v1/usage');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      period: currentPeriod(),
      plan: 'free',
      messages: { used: 0, limit: 10, resetsAt: periodResetsAt().toISOString() },
      tokens: { prompt: 0, completion: 0, total: 0 },
      modelFailures: 0,
      modelRetries: 0,
      sources: 0,
      storage: { characters: 0, chunks: 0 },
    });
    expect(currentPeriod()).toMatch(/^\d{4}-\d{2}$/);
  });

  it('reports messages and tokens recorded this period, per organization', async () => {
    const org = await t.createOrg('Busy');
    const other = await t.createOrg('Quiet');
    await usage().recordMessage(org.id, { prompt: 120, completion: 30 });
    await usage().recordMessage(org.id, { prompt: 80, completion: 20 });
    await usage().recordModelFailure(org.id);
    const res = await org.api.get<UsageReport>('/api/v1/usage');
    expect(res.body.data).toMatchObject({
      messages: { used: 2, limit: 10 },
      tokens: { prompt: 200, completion: 50, total: 250 },
      modelFailures: 1,
    });
    expect((await other.api.get<UsageReport>('/api/v1/usage')).body.data.messages.used).toBe(0);
  });

  it('never loses a count under concurrent writers', async () => {
    const org = await t.createOrg('Concurrent');
    await Promise.all(Array.from({ length: 25 }, () => usage().recordMessage(org.id, { prompt: 1, completion: 1 })));
    const res = await org.api.get<UsageReport>('/api/v1/usage');
    expect(res.body.data.messages.used).toBe(25);
    expect(res.body.data.tokens.total).toBe(50);
  });

  it('warns once 80% of the quota is used, and refuses with QuotaExceededError (429) at the limit', async () => {
    const org = await t.createOrg('Near the limit');
    await usage().increment(org.id, { messages: 6 });
    expect(await usage().reserveMessage(org.id)).toMatchObject({ used: 7, limit: 10, warning: null });
    const warned = await usage().reserveMessage(org.id);
    expect(warned.warning).toBe('80% of the monthly message quota (10) is used');
    await usage().increment(org.id, { messages: 2 });
    const error = (await usage()
      .reserveMessage(org.id)
      .catch((e: unknown) => e)) as AppError;
    expect(error.name).toBe('QuotaExceededError');
    expect(error.status).toBe(429);
    const resetsAt = periodResetsAt().toISOString();
    const retryAfter = Number(error.headers['Retry-After']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(31 * 24 * 3600);
    expect(error.details).toEqual({ used: 10, limit: 10, period: currentPeriod(), resetsAt, retryAfter });
    expect(error.message).toContain(`it resets at ${resetsAt}`);
  });

  it('announces quota.warning once per period, even when two nodes cross 80% together', async () => {
    const org = await t.createOrg('Warned once');
    const { services, models } = t.app;
    const warnings: Array<DomainEvents['quota.warning']> = [];
    const unsubscribe = services.events.subscribe('quota.warning', (event) => void warnings.push(event));
    // A second node: its own service (and memory) over the same database.
    const otherNode = new UsageService(
      { Usage: models.Usage },
      (id) => services.organizations.settingsOf(id),
      monthlyQuotas(planDefaults(t.config)),
      undefined,
      { events: services.events, logger: services.logger },
    );
    try {
      await usage().increment(org.id, { messages: 7 });
      await Promise.all([usage().reserveMessage(org.id), otherNode.reserveMessage(org.id)]);
      await vi.waitFor(async () => {
        const doc = await models.Usage.findOne({ organizationId: new Types.ObjectId(org.id) }).lean();
        expect(doc?.quotaWarningAt).toBeInstanceOf(Date);
      });
      await usage().reserveMessage(org.id);
      await services.events.settled();
      expect(warnings).toEqual([
        {
          organizationId: org.id,
          quota: 'messages',
          period: currentPeriod(),
          used: expect.any(Number),
          limit: 10,
          ratio: expect.any(Number),
          occurredAt: expect.any(String),
        },
      ]);
      expect(warnings[0]!.ratio).toBeGreaterThanOrEqual(0.8);
    } finally {
      unsubscribe();
    }
  });

  it('never lets concurrent reservations pass the limit, and a released message can be taken again', async () => {
    const org = await t.createOrg('Racing');
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => usage().reserveMessage(org.id)));
    const taken = results.filter((r) => r.status === 'fulfilled');
    expect(taken).toHaveLength(10);
    expect((await org.api.get<UsageReport>('/api/v1/usage')).body.data.messages.used).toBe(10);
    await taken[0]!.value.release();
    await taken[0]!.value.release();
    expect((await org.api.get<UsageReport>('/api/v1/usage')).body.data.messages.used).toBe(9);
    await usage().reserveMessage(org.id);
    await expect(usage().reserveMessage(org.id)).rejects.toMatchObject({ name: 'QuotaExceededError' });
  });

  it('gives reservations asked together one message each, every count once, and refuses the ones past the room', async () => {
    const org = await t.createOrg('Together');
    // The quota is 10 here: six ask at once where five are left, so the shared take does not fit; the first five in
    // order get 6..10, the sixth a 429.
    await usage().increment(org.id, { messages: 5 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => usage().reserveMessage(org.id)));
    expect(results.slice(0, 5).map((r) => (r.status === 'fulfilled' ? r.value.used : null))).toEqual([6, 7, 8, 9, 10]);
    expect(results[5]).toMatchObject({ status: 'rejected', reason: { name: 'QuotaExceededError' } });
    const other = await t.createOrg('Room for all');
    const all = await Promise.all(Array.from({ length: 5 }, () => usage().reserveMessage(other.id)));
    expect(all.map((reservation) => reservation.used).sort()).toEqual([1, 2, 3, 4, 5]);
    expect((await other.api.get<UsageReport>('/api/v1/usage')).body.data.messages.used).toBe(5);
  });

  it('takes the quota and adds the counters asked in the same tick in one write, and still adds them when the quota refuses', async () => {
    const org = await t.createOrg('One write');
    await usage().reserveMessage(org.id);
    const writes: string[] = [];
    const connection = t.app.models.Usage.db;
    connection.set('debug', (collection: string, method: string) => {
      if (collection === 'usage') writes.push(method);
    });
    let reservation;
    try {
      [reservation] = await Promise.all([
        usage().reserveMessage(org.id),
        usage().increment(org.id, { promptTokens: 7, completionTokens: 3 }),
        usage().recordModelRetries(org.id, 2),
      ]);
    } finally {
      connection.set('debug', false);
    }
    expect(reservation.used).toBe(2);
    expect(writes).toEqual(['findOneAndUpdate']);
    expect((await org.api.get<UsageReport>('/api/v1/usage')).body.data).toMatchObject({
      messages: { used: 2 },
      tokens: { prompt: 7, completion: 3 },
      modelRetries: 2,
    });

    // The quota is 10: with none left, the reservation is refused and the counters beside it still count.
    await usage().increment(org.id, { messages: 8 });
    const [refused, counted] = await Promise.allSettled([
      usage().reserveMessage(org.id),
      usage().increment(org.id, { promptTokens: 5 }),
    ]);
    expect(refused).toMatchObject({ status: 'rejected', reason: { name: 'QuotaExceededError' } });
    expect(counted.status).toBe('fulfilled');
    expect((await org.api.get<UsageReport>('/api/v1/usage')).body.data).toMatchObject({
      messages: { used: 10 },
      tokens: { prompt: 12, completion: 3 },
    });
  });

  it("uses the organization's own quota over its plan's, and 0 as unlimited", async () => {
    const org = await t.createOrg('Big plan');
    await t.app.models.Organization.updateOne({ _id: org.id }, { $set: { monthlyMessageQuota: 1000 } });
    await usage().increment(org.id, { messages: 10 });
    expect(await usage().reserveMessage(org.id)).toMatchObject({ used: 11, limit: 1000, warning: null });
    const res = await org.api.get<UsageReport>('/api/v1/usage');
    expect(res.body.data.messages).toMatchObject({ used: 11, limit: 1000 });

    // The operator's change (the CLI writes the organization) applies within the documented 5 seconds.
    await t.app.models.Organization.updateOne({ _id: org.id }, { $set: { monthlyMessageQuota: 0 } });
    await vi.waitFor(async () => expect(await usage().monthlyLimit(org.id)).toMatchObject({ limit: 0 }), {
      timeout: 7_000,
      interval: 200,
    });
    expect(await usage().reserveMessage(org.id)).toMatchObject({ used: 12, limit: 0, warning: null });
    expect((await org.api.get<UsageReport>('/api/v1/usage')).body.data.messages.limit).toBeNull();
  });

  it('counts only the current period', async () => {
    const org = await t.createOrg('Last month');
    await t.app.models.Usage.collection.insertOne({
      organizationId: new Types.ObjectId(org.id),
      period: '2000-01',
      messages: 9999,
    });
    expect((await usage().reserveMessage(org.id)).used).toBe(1);
  });

  it('when the key is not admin, answers 403 on GET /usage', async () => {
    const org = await t.createOrg('Scoped');
    const reader = await t.clientWithScopes(org, ['knowledge:read', 'chat']);
    const res = await reader.get('/api/v1/usage');
    expect(res.status).toBe(403);
    expect(res.body.error?.message).toContain('"admin"');
  });
});
