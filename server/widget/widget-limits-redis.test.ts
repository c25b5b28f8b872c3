import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasRedis, startRedis } from '../test/redis-server.js';
import { startSecondNode, startTestApp, type SecondNode, type TestApp } from '../test/test-app.js';
import { connectWidget, send, type WidgetClient } from '../test/widget-client.js';

const LIMITS = {
  WIDGET_MESSAGES_BURST_PER_VISITOR: '3',
  WIDGET_MESSAGES_PER_VISITOR_PER_MINUTE: '4',
  WIDGET_MESSAGES_PER_IP_PER_MINUTE: '5',
  WIDGET_CONFIG_PER_IP_PER_MINUTE: '2',
};

describe.skipIf(!hasRedis)('widget flood limits across two nodes with REDIS_URL', () => {
  let redis: ChildProcess;
  let first: TestApp;
  let second: SecondNode;
  const open: WidgetClient[] = [];

  beforeAll(async () => {
    const started = await startRedis();
    redis = started.process;
    first = await startTestApp({ env: { REDIS_URL: started.url, ...LIMITS } });
    // A second node on the same database and Redis, as behind a load balancer.
    second = await startSecondNode(first);
    const org = await first.createOrg('Two nodes');
    await org.api.post('/api/v1/chatbots', { name: 'Shared limits', slug: 'shared-limits' });
  });
  afterAll(async () => {
    for (const socket of open) socket.disconnect();
    await second?.stop();
    await first?.stop();
    redis?.kill('SIGTERM');
  });

  async function connect(url: string, ip: string, auth: { visitorId?: string; visitorToken?: string } = {}) {
    const connected = await connectWidget(url, { bot: 'shared-limits', ...auth }, { ip });
    open.push(connected.socket);
    return connected;
  }

  it("counts a visitor's messages on both nodes: reconnecting to the other node does not reset them", async () => {
    const onFirst = await connect(first.url, '203.0.113.1');
    const sent = await Promise.all([1, 2, 3].map((i) => send(onFirst.socket, `on the first node ${i}`)));
    expect(sent.every((reply) => reply.data)).toBe(true);
    onFirst.socket.disconnect();

    const onSecond = await connect(second.url, '203.0.113.1', {
      visitorId: onFirst.session.visitorId,
      visitorToken: onFirst.session.visitorToken,
    });
    const refused = await send(onSecond.socket, 'on the second node');
    expect(refused.error).toMatchObject({ name: 'RateLimitError', details: { retryAfterSeconds: expect.any(Number) } });
  });

  it('counts the messages of one address over both nodes', async () => {
    const a = await connect(first.url, '203.0.113.2');
    const b = await connect(second.url, '203.0.113.2');
    const replies = await Promise.all([
      send(a.socket, 'a1'),
      send(a.socket, 'a2'),
      send(a.socket, 'a3'),
      send(b.socket, 'b1'),
      send(b.socket, 'b2'),
      send(b.socket, 'b3'),
    ]);
    expect(replies.filter((reply) => reply.data)).toHaveLength(5);
    expect(replies.filter((reply) => reply.error?.name === 'RateLimitError')).toHaveLength(1);
  });

  it('counts widget-config requests of an address over both nodes', async () => {
    const headers = { 'x-forwarded-for': '203.0.113.3' };
    const get = (url: string) => fetch(`${url}/api/v1/widget-config?bot=shared-limits`, { headers });
    expect((await get(first.url)).status).toBe(200);
    expect((await get(second.url)).status).toBe(200);
    const refused = await get(first.url);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
