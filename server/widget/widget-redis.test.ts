import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../test/api-client.js';
import { hasRedis, startRedis } from '../test/redis-server.js';
import { startSecondNode, startTestApp, type SecondNode, type TestApp } from '../test/test-app.js';
import { connectWidget, type WidgetClient } from '../test/widget-client.js';

describe.skipIf(!hasRedis)('widget sockets across two nodes with REDIS_URL', () => {
  let redis: ChildProcess;
  let first: TestApp;
  let second: SecondNode;
  let socket: WidgetClient | null = null;

  beforeAll(async () => {
    const started = await startRedis();
    redis = started.process;
    first = await startTestApp({ env: { REDIS_URL: started.url } });
    // A second node on the same database and Redis, as behind a load balancer.
    second = await startSecondNode(first);
  });
  afterAll(async () => {
    socket?.disconnect();
    await second?.stop();
    await first?.stop();
    redis?.kill('SIGTERM');
  });

  it('a settings change made through one node restyles a widget connected to the other', async () => {
    const org = await first.createOrg('Two nodes');
    await org.api.post('/api/v1/chatbots', { name: 'Shared bot' });
    const { socket: client } = await connectWidget(first.url, { bot: 'shared-bot' });
    socket = client;
    const updated = new Promise<{ version: number; config: unknown }>((resolve) =>
      client.once('settings:updated', resolve),
    );
    const onSecond = new ApiClient(second.url, org.adminKey);
    const patched = await onSecond.patch('/api/v1/chatbots/shared-bot/widget-settings', { primaryColor: '#0f766e' });
    expect(patched.status).toBe(200);
    const event = await updated;
    expect(event.config).toMatchObject({ appearance: { primaryColor: '#0f766e' } });
  });
});
