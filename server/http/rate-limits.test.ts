import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, type ApiResponse } from '../test/api-client.js';
import { startTestApp, type TestApp } from '../test/test-app.js';
import { createLogger } from '../logger.js';
import { DEFAULT_RATE_LIMITS, type RateLimitSettings } from './rate-limits.js';

const FREE = DEFAULT_RATE_LIMITS.plans.free;

function expectRateLimited(res: ApiResponse): void {
  expect(res.status).toBe(429);
  expect(res.body.data).toBeNull();
  expect(res.body.error?.name).toBe('RateLimitError');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect((res.body.error?.details as { retryAfter: number }).retryAfter).toBe(retryAfter);
}

describe('rate limits', () => {
  let t: TestApp | null = null;
  afterEach(async () => {
    await t?.stop();
    t = null;
  });

  const start = async (rateLimits: RateLimitSettings) => {
    t = await startTestApp({ rateLimits });
    return t;
  };

  it('when a free key makes 61 requests in a minute, the 61st answers 429 with Retry-After', async () => {
    // The burst limit is raised so that only the per-minute limit of the free plan is met.
    const app = await start({
      ...DEFAULT_RATE_LIMITS,
      plans: { ...DEFAULT_RATE_LIMITS.plans, free: { ...FREE, burstPerSecond: 1_000 } },
    });
    const org = await app.createOrg('Free org');
    expect(FREE.perMinute).toBe(60);
    for (let i = 1; i <= FREE.perMinute; i += 1) {
      const res = await org.api.get('/api/v1/chatbots');
      expect(res.status, `request ${i}`).toBe(200);
    }
    const limited = await org.api.get('/api/v1/chatbots');
    expectRateLimited(limited);
    expect(limited.body.error?.message).toContain('60 requests per 60 seconds');
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });

  it('sends the standard RateLimit and RateLimit-Policy headers for both windows', async () => {
    const app = await start(DEFAULT_RATE_LIMITS);
    const org = await app.createOrg('Header org');
    const res = await org.api.get('/api/v1/chatbots');
    expect(res.status).toBe(200);
    const policy = res.headers.get('ratelimit-policy') ?? '';
    expect(policy).toContain(`"free-burst-${FREE.burstPerSecond}-in-1s"; q=${FREE.burstPerSecond}; w=1`);
    expect(policy).toContain(`"free-minute-${FREE.perMinute}-in-60s"; q=${FREE.perMinute}; w=60`);
    expect(res.headers.get('ratelimit')).toMatch(
      new RegExp(`"free-minute-60-in-60s"; r=${FREE.perMinute - 1}; t=\\d+`),
    );
  });

  it('gives each of concurrent requests its own count: the remaining figures are all different', async () => {
    const app = await start({
      ...DEFAULT_RATE_LIMITS,
      plans: { ...DEFAULT_RATE_LIMITS.plans, free: { perMinute: 50, burstPerSecond: 1_000 } },
    });
    const org = await app.createOrg('Concurrent org');
    const results = await Promise.all(Array.from({ length: 20 }, () => org.api.get('/api/v1/chatbots')));
    const remaining = results.map((res) => {
      expect(res.status).toBe(200);
      const minute = /"free-minute-50-in-60s"; r=(\d+); t=\d+/.exec(res.headers.get('ratelimit') ?? '');
      return Number(minute?.[1]);
    });
    expect(remaining.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => 30 + i));
    expect(results[0]!.headers.get('ratelimit-policy')).toMatch(
      /"free-minute-50-in-60s"; q=50; w=60; pk=:[A-Za-z0-9+/=]+:/,
    );
  });

  it('lets requests through uncounted, and says so in the log, while a shared store fails', async () => {
    const written: string[] = [];
    t = await startTestApp({
      logger: createLogger('info', { write: (line: string) => void written.push(line) }),
      rateLimits: {
        ...DEFAULT_RATE_LIMITS,
        storeFor: () => ({
          increment: () => Promise.reject(new Error('store unreachable')),
          decrement: async () => undefined,
          resetKey: async () => undefined,
        }),
      },
    });
    const org = await t.createOrg('Store down');
    const res = await org.api.get('/api/v1/chatbots');
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit')).toBeNull();
    expect(written.some((line) => line.includes('rate-limit store failed') && line.includes('store unreachable'))).toBe(
      true,
    );
  });

  it('counts both windows of a key without the limiter library reporting a misconfiguration', async () => {
    const written: string[] = [];
    t = await startTestApp({
      logger: createLogger('warn', { write: (line: string) => void written.push(line) }),
      rateLimits: DEFAULT_RATE_LIMITS,
    });
    const org = await t.createOrg('Clean log');
    for (let i = 0; i < 3; i += 1) expect((await org.api.get('/api/v1/chatbots')).status).toBe(200);
    expect(written).toEqual([]);
  });

  it('when a free key bursts past its per-second limit, answers 429 for the excess only', async () => {
    const app = await start(DEFAULT_RATE_LIMITS);
    const org = await app.createOrg('Bursty org');
    const burst = FREE.burstPerSecond;
    const results = await Promise.all(Array.from({ length: burst + 3 }, () => org.api.get('/api/v1/chatbots')));
    const statuses = results.map((res) => res.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(burst);
    expect(statuses.filter((s) => s === 429)).toHaveLength(3);
    const limited = results.find((res) => res.status === 429)!;
    expectRateLimited(limited);
    expect(limited.body.error?.message).toContain('per second');
  });

  it('counts each key on its own, and gives pro organizations their higher limits', async () => {
    const tight: RateLimitSettings = {
      plans: {
        free: { perMinute: 2, burstPerSecond: 100 },
        pro: { perMinute: 4, burstPerSecond: 100 },
        enterprise: { perMinute: 8, burstPerSecond: 100 },
      },
      publicPerMinute: 100,
    };
    const app = await start(tight);
    const org = await app.createOrg('Two keys');
    const second = await app.app.services.apiKeys.create(org.id, 'Second', ['knowledge:read']);
    const other = new ApiClient(app.url, second.key);
    for (let i = 0; i < 2; i += 1) expect((await org.api.get('/api/v1/chatbots')).status).toBe(200);
    expect((await org.api.get('/api/v1/chatbots')).status).toBe(429);
    expect((await other.get('/api/v1/chatbots')).status).toBe(200);

    const pro = await app.app.services.organizations.create('Pro org', 'pro');
    const proClient = new ApiClient(app.url, pro.adminKey);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i += 1) statuses.push((await proClient.get('/api/v1/chatbots')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });

  it('limits failed key attempts per address, while valid keys are never slowed by them', async () => {
    const app = await start({ ...DEFAULT_RATE_LIMITS, publicPerMinute: 3 });
    const org = await app.createOrg('Guessing target');
    const guesser = new ApiClient(app.url, `sk_live_${'x'.repeat(40)}`);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await guesser.get('/api/v1/chatbots')).status);
    expect(statuses).toEqual([401, 401, 401, 429]);
    expectRateLimited(await guesser.get('/api/v1/chatbots'));
    expect((await org.api.get('/api/v1/chatbots')).status).toBe(200);
  });
});
