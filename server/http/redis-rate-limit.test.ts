import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { startApp, type RunningApp } from '../app.js';
import { connectMongo } from '../db/mongo.js';
import { ApiClient } from '../test/api-client.js';
import { startTestApp, type TestApp } from '../test/test-app.js';
import type { RateLimitSettings } from './rate-limits.js';

const REDIS_SERVER = '/usr/bin/redis-server';
const hasRedis = existsSync(REDIS_SERVER);
if (!hasRedis) {
  console.warn(`Skipping the shared rate-limit test: ${REDIS_SERVER} is missing (apt-get install redis-server).`);
}

const LIMITS: RateLimitSettings = {
  plans: { free: { perMinute: 5, burstPerSecond: 100 }, pro: { perMinute: 5, burstPerSecond: 100 } },
  publicPerMinute: 100,
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('redis-server did not start within 10 s')), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code}`)));
  });
  return child;
}

describe.skipIf(!hasRedis)('rate limits with REDIS_URL', () => {
  let redis: ChildProcess;
  let first: TestApp;
  let second: RunningApp;
  let closeSecond: () => Promise<void>;

  beforeAll(async () => {
    const port = await freePort();
    redis = await startRedis(port);
    const env = { REDIS_URL: `redis://127.0.0.1:${port}` };
    first = await startTestApp({ env, rateLimits: LIMITS });
    // A second node on the same database and the same Redis, as behind a load balancer.
    const connection = await connectMongo(inject('mongoUri'), { dbName: first.connection.name });
    second = await startApp({
      config: first.config,
      logger: pino({ level: 'silent' }),
      connection,
      embeddedDatabase: true,
      rateLimits: LIMITS,
    });
    closeSecond = async () => {
      await second.stop(0);
      await connection.close();
    };
  });
  afterAll(async () => {
    await closeSecond?.();
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
