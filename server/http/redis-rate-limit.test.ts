import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../test/api-client.js';
import { hasRedis, REDIS_SERVER, startRedis } from '../test/redis-server.js';
import { startSecondNode, startTestApp, type SecondNode, type TestApp } from '../test/test-app.js';
import type { RateLimitSettings } from './rate-limits.js';

if (!hasRedis) {
  console.warn(`Skipping the shared rate-limit test: ${REDIS_SERVER} is missing (apt-get install redis-server).`);
}

const LIMITS: RateLimitSettings = {
  plans: {
    free: { perMinute: 5, burstPerSecond: 100 },
    pro: { perMinute: 5, burstPerSecond: 100 },
    enterprise: { perMinute: 5, burstPerSecond: 100 },
  },
  publicPerMinute: 100,
};

describe.skipIf(!hasRedis)('rate limits with REDIS_URL', () => {
  let redis: ChildProcess;
  let first: TestApp;
  let second: SecondNode;

  beforeAll(async () => {
    const started = await startRedis();
    redis = started.process;
    const env = { REDIS_URL: started.url };
    first = await startTestApp({ env, rateLimits: LIMITS });
    // A second node on the same database and the same Redis, as behind a load balancer.
    second = await startSecondNode(first, { rateLimits: LIMITS });
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
    redis?.kill('SIGTERM');
  });

  it('counts one key across two app instances: 3 requests on one and 3 on the other make the 6th a 429', async () => {
    const org = await first.createOrg('Shared limits');
    const onFirst = new ApiClient(first.url, org.adminKey);
    const onSecond = new ApiClient(second.url, org.adminKey);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await onFirst.get('/api/v1/chatbots')).status);
    for (let i = 0; i < 3; i += 1) statuses.push((await onSecond.get('/api/v1/chatbots')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await onFirst.get('/api/v1/chatbots');
    expect(limited.status).toBe(429);
    expect(limited.body.error?.name).toBe('RateLimitError');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
