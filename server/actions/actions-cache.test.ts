import type { ChildProcess } from 'node:child_process';
import { Types } from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../test/api-client.js';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startFakeShop, type FakeShop } from '../test/fake-shop.js';
import { hasRedis, startRedis } from '../test/redis-server.js';
import { startSecondNode, startTestApp, type SecondNode, type TestApp, type TestOrg } from '../test/test-app.js';

interface Tool {
  function: { name: string; description: string };
}

const ASK_STATUS = 'Where is order 1001? #tool:order_status {"orderNumber":"1001"}';

/** An action the model may call without a signed-in visitor or a confirmation (a GET). */
const orderStatus = (shopUrl: string, description = 'Status of an order') => ({
  name: 'order_status',
  description,
  parameters: { type: 'object', properties: { orderNumber: { type: 'string' } }, required: ['orderNumber'] },
  request: { method: 'GET', url: `${shopUrl}/api/orders/{params.orderNumber}` },
});

/** The tools the model was offered in its latest chat call (none when it was offered none). */
const offeredTools = (fake: FakeLlm): Array<{ name: string; description: string }> => {
  const last = fake.calls.filter((call) => call.path.endsWith('/chat/completions')).at(-1);
  const tools = ((last?.body as { tools?: Tool[] } | undefined)?.tools ?? []) as Tool[];
  return tools.map((tool) => ({ name: tool.function.name, description: tool.function.description }));
};

const modelEnv = (fake: FakeLlm) => ({
  OPENAI_BASE_URL: fake.url,
  OPENAI_API_KEY: 'test',
  OPENAI_MODEL: 'fake-chat',
  URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1',
});

describe("a bot's actions, read through a cache on every chat turn, on one node", () => {
  let fake: FakeLlm;
  let shop: FakeShop;
  let t: TestApp;
  let org: TestOrg;
  let botId: string;

  beforeAll(async () => {
    [fake, shop] = await Promise.all([startFakeLlm(), startFakeShop()]);
    t = await startTestApp({ env: modelEnv(fake) });
    org = await t.createOrg('Cached actions');
    botId = (await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Shop' })).body.data.id;
  });
  beforeEach(() => {
    fake.reset();
    shop.reset();
  });
  afterAll(async () => {
    await t?.stop();
    await Promise.all([fake?.stop(), shop?.stop()]);
  });

  const chat = (message: string) => org.api.post<{ response: string }>('/api/v1/chat', { chatbotId: botId, message });

  it('the action added after a turn is called by the next turn, an update is offered at once and a deleted one is not offered', async () => {
    expect((await chat(ASK_STATUS)).status).toBe(200);
    expect(offeredTools(fake)).toEqual([]);

    const created = await org.api.post<{ id: string }>(`/api/v1/chatbots/${botId}/actions`, orderStatus(shop.url));
    expect(created.status).toBe(201);
    const called = await chat(ASK_STATUS);
    expect(called.body.data.response).toContain('Tool result:');
    expect(shop.requests.map((r) => r.target)).toEqual(['/api/orders/1001']);

    const patched = await org.api.patch(`/api/v1/actions/${created.body.data.id}`, {
      description: 'Where an order is',
    });
    expect(patched.status).toBe(200);
    await chat('Hello');
    expect(offeredTools(fake)).toEqual([{ name: 'order_status', description: 'Where an order is' }]);

    expect((await org.api.delete(`/api/v1/actions/${created.body.data.id}`)).status).toBe(200);
    shop.reset();
    await chat(ASK_STATUS);
    expect(offeredTools(fake)).toEqual([]);
    expect(shop.requests).toEqual([]);
  });

  it('serves a turn from the cache: an action removed behind the app stays offered until an action of the bot is written', async () => {
    const created = await org.api.post<{ id: string }>(`/api/v1/chatbots/${botId}/actions`, orderStatus(shop.url));
    await chat('Hello');
    expect(offeredTools(fake).map((tool) => tool.name)).toEqual(['order_status']);
    // No code path of the app writes actions this way; this is what shows the turn read no list.
    await t.connection.db!.collection('actions').deleteOne({ _id: new Types.ObjectId(created.body.data.id) });
    await chat('Hello');
    expect(offeredTools(fake).map((tool) => tool.name)).toEqual(['order_status']);

    const other = await org.api.post(`/api/v1/chatbots/${botId}/actions`, {
      ...orderStatus(shop.url, 'Tracking of an order'),
      name: 'order_tracking',
    });
    expect(other.status).toBe(201);
    await chat('Hello');
    expect(offeredTools(fake).map((tool) => tool.name)).toEqual(['order_tracking']);
  });
});

/**
 * Node B hears of a write on A through Redis pub/sub: within milliseconds, but not necessarily before A has
 * answered. Two seconds is below the cache's 5 s expiry, so a check that passes in time proves the invalidation.
 */
const onceBHears = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 2_000, interval: 20 });

describe.skipIf(!hasRedis)("a bot's cached actions across two nodes on one Redis", () => {
  let redis: ChildProcess;
  let fake: FakeLlm;
  let shop: FakeShop;
  let a: TestApp;
  let b: SecondNode;
  let org: TestOrg;
  let onB: ApiClient;
  let botId: string;

  beforeAll(async () => {
    const started = await startRedis();
    redis = started.process;
    [fake, shop] = await Promise.all([startFakeLlm(), startFakeShop()]);
    a = await startTestApp({ env: { ...modelEnv(fake), REDIS_URL: started.url } });
    // A second node on the same database and Redis, as behind a load balancer.
    b = await startSecondNode(a);
    org = await a.createOrg('Two nodes');
    onB = new ApiClient(b.url, org.adminKey);
    botId = (await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Shop' })).body.data.id;
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await Promise.all([fake?.stop(), shop?.stop()]);
    redis?.kill('SIGTERM');
  });

  /** The names of the tools node B's next turn offers the model. */
  const toolsOnB = async () => {
    fake.reset();
    expect((await onB.post('/api/v1/chat', { chatbotId: botId, message: 'Hello' })).status).toBe(200);
    return offeredTools(fake);
  };

  it('an action created, changed and deleted through node A is offered as it is by the next turns on node B', async () => {
    expect(await toolsOnB()).toEqual([]);
    const created = await org.api.post<{ id: string }>(`/api/v1/chatbots/${botId}/actions`, orderStatus(shop.url));
    expect(created.status).toBe(201);
    await onceBHears(toolsOnB).toEqual([{ name: 'order_status', description: 'Status of an order' }]);

    await org.api.patch(`/api/v1/actions/${created.body.data.id}`, { description: 'Where an order is' });
    await onceBHears(toolsOnB).toEqual([{ name: 'order_status', description: 'Where an order is' }]);

    expect((await org.api.delete(`/api/v1/actions/${created.body.data.id}`)).status).toBe(200);
    await onceBHears(toolsOnB).toEqual([]);
    shop.reset();
    await onB.post('/api/v1/chat', { chatbotId: botId, message: ASK_STATUS });
    expect(shop.requests).toEqual([]);
  });
});
