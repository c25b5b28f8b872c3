import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../../server/test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp, type TestOrg } from '../../../server/test/test-app.js';
import { OPERATIONS } from '../src/generated/operations.js';
import { verifyWebhook, Wisp, WispApiError } from '../src/index.js';

/** An HTTP endpoint that notes every request it gets (a webhook receiver). */
async function startReceiver(): Promise<{
  url: string;
  received: { body: string; headers: IncomingHttpHeaders }[];
  server: Server;
}> {
  const received: { body: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received, server };
}

/** Waits until `condition` holds (checked every 25 ms, for at most 10 s). */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the condition did not hold within 10 s');
}

describe('the TypeScript SDK: every operation, and the resources beyond chat and knowledge', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;
  let wisp: Wisp;
  let botId: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  // Nothing listens here: the saved URLs only have to be allowed (loopback is, through the setting below).
  const target = 'http://127.0.0.1:9/wisp';

  beforeAll(async () => {
    fake = await startFakeLlm();
    receiver = await startReceiver();
    t = await startTestApp({
      env: {
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-chat',
        URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1',
      },
    });
    org = await t.createOrg('SDK operations');
    wisp = new Wisp({ apiKey: org.adminKey, baseUrl: t.url, retryBaseDelayMs: 10 });
    botId = (await wisp.chatbots.create({ name: 'Operations bot' })).id;
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
    await new Promise((resolve) => receiver.server.close(resolve));
  });

  it('has a method for every operation of the API', () => {
    const client = wisp as unknown as Record<string, Record<string, unknown>>;
    const missing = OPERATIONS.filter((op) => typeof client[op.resource]?.[op.method] !== 'function');
    expect(missing).toEqual([]);
    expect(OPERATIONS.length).toBeGreaterThan(70);
  });

  it('creates, lists, rotates and deletes a webhook endpoint', async () => {
    const hook = await wisp.webhooks.create({ url: target, events: ['lead.created'], description: 'CRM sync' });
    expect(hook).toMatchObject({ url: target, events: ['lead.created'], enabled: true, secret: expect.any(String) });
    const listed = await wisp.webhooks.list();
    expect(listed.items.map((h) => h.id)).toEqual([hook.id]);
    expect(listed.items[0]).not.toHaveProperty('secret');

    const rotated = await wisp.webhooks.rotateSecret(hook.id);
    expect(rotated.id).toBe(hook.id);
    expect(rotated.secret).not.toBe(hook.secret);
    // A test delivery is signed with the new secret, and the SDK's verifier accepts it.
    await wisp.webhooks.update(hook.id, { url: receiver.url });
    const sent = await wisp.webhooks.sendTest(hook.id);
    await until(() => receiver.received.length > 0);
    const delivery = receiver.received[0]!;
    expect(verifyWebhook<{ type: string }>(delivery.body, delivery.headers, rotated.secret).type).toBe('webhook.test');
    // The rotated-out secret keeps signing beside the new one for a day: two signatures.
    expect(String(delivery.headers['webhook-signature']).split(' ')).toHaveLength(2);
    await until(async () => (await wisp.webhooks.listDeliveries(hook.id)).items.some((d) => d.status === 'delivered'));
    const deliveries = await wisp.webhooks.listDeliveries(hook.id).toArray();
    expect(deliveries.map((d) => d.id)).toContain(sent.deliveryId);

    const updated = await wisp.webhooks.update(hook.id, { enabled: false });
    expect(updated.enabled).toBe(false);
    expect((await wisp.webhooks.get(hook.id)).enabled).toBe(false);

    await wisp.webhooks.delete(hook.id);
    expect((await wisp.webhooks.list()).total).toBe(0);
    const gone = await wisp.webhooks.get(hook.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(WispApiError);
    expect(gone).toMatchObject({ name: 'NotFoundError', status: 404 });
  });

  it('reads analytics of the organization and of one bot', async () => {
    await wisp.chat.send({ chatbotId: botId, message: 'Hello there' });
    const report = await wisp.analytics.get({ chatbotId: botId });
    expect(report.chatbotId).toBe(botId);
    expect(report.totals).toEqual(expect.any(Object));
    expect(Array.isArray(report.series)).toBe(true);
    const all = await wisp.analytics.get();
    expect(all.chatbotId).toBeNull();
  });

  it('creates and lists actions, and reads their runs', async () => {
    const action = await wisp.actions.create(botId, {
      name: 'order_status',
      description: 'Look up the status of an order by its number.',
      parameters: {
        type: 'object',
        properties: { orderNumber: { type: 'string', pattern: '^[0-9]{1,12}$' } },
        required: ['orderNumber'],
      },
      request: { method: 'GET', url: `${target}/orders/{params.orderNumber}` },
    });
    expect(action).toMatchObject({ name: 'order_status', chatbotId: botId });
    const listed = await wisp.actions.list(botId);
    expect(listed.items.map((a) => a.id)).toEqual([action.id]);
    expect((await wisp.actions.get(action.id)).name).toBe('order_status');
    const updated = await wisp.actions.update(action.id, { timeoutMs: 5000 });
    expect(updated.timeoutMs).toBe(5000);
    expect((await wisp.actions.listRuns(action.id)).total).toBe(0);
    const invalid = await wisp.actions
      .create(botId, { name: 'no request', description: 'x' } as never)
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({ name: 'ValidationError', status: 422 });
    await wisp.actions.delete(action.id);
    expect((await wisp.actions.list(botId)).total).toBe(0);
  });

  it('creates and lists agent loops', async () => {
    const loop = await wisp.agentLoops.create({
      name: 'Nightly check',
      chatbotId: botId,
      instructions: 'Summarise the order named in the input in one sentence.',
      tools: ['search_knowledge'],
      schedule: { cron: '0 6 * * *', timezone: 'Europe/Berlin' },
      enabled: false,
    });
    expect(loop).toMatchObject({ name: 'Nightly check', chatbotId: botId, enabled: false });
    const listed = await wisp.agentLoops.list();
    expect(listed.items.map((l) => l.id)).toEqual([loop.id]);
    expect((await wisp.agentLoops.get(loop.id)).instructions).toContain('Summarise');
    expect((await wisp.agentLoops.update(loop.id, { maxSteps: 3 })).maxSteps).toBe(3);
    expect((await wisp.agentLoops.listExecutions(loop.id)).total).toBe(0);
    await wisp.agentLoops.delete(loop.id);
    expect((await wisp.agentLoops.list()).total).toBe(0);
  });

  it('creates a webhook channel and reads it back', async () => {
    const channel = await wisp.channels.create(botId, {
      type: 'webhook',
      name: 'In-app messenger',
      callbackUrl: `${target}/answers`,
    });
    expect(channel).toMatchObject({ type: 'webhook', name: 'In-app messenger', chatbotId: botId });
    expect(channel.inboundUrl).toEqual(expect.any(String));
    expect(channel.signingSecret).toEqual(expect.any(String));
    const listed = await wisp.channels.list(botId);
    expect(listed.items.map((c) => c.id)).toEqual([channel.id]);
    expect((await wisp.channels.get(channel.id)).callbackUrl).toBe(`${target}/answers`);
    expect((await wisp.channels.update(channel.id, { name: 'Messenger' })).name).toBe('Messenger');
    await wisp.channels.delete(channel.id);
    expect((await wisp.channels.list(botId)).total).toBe(0);
  });
});
