import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Types } from 'mongoose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLeadBot, leadRequest, visitorOf } from '../leads/leads.fixtures.js';
import { queuedJobState } from '../queue/lease-queue.js';
import type { ApiClient } from '../test/api-client.js';
import { collectGarbage } from '../test/collect-garbage.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { WebhookReceiver } from '../test/webhook-receiver.js';

interface Created {
  id: string;
  secret: string;
  enabled: boolean;
  disabledReason: string | null;
}
interface Delivery {
  id: string;
  messageId: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastLatencyMs: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('webhooks', () => {
  let t: TestApp;
  let org: TestOrg;
  let other: TestOrg;
  let botId: string;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1',
        WEBHOOK_RETRY_SCHEDULE_MS: '30,60,120,240,480,480,480,480',
        WEBHOOK_DISABLE_AFTER_MS: '1000',
        WEBHOOK_TIMEOUT_MS: '1000',
        WEBHOOK_POLL_MS: '20',
      },
    });
    org = await t.createOrg('Hooks');
    other = await t.createOrg('Other');
    botId = (await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Bot' })).body.data.id;
  });
  beforeEach(async () => {
    receiver = await WebhookReceiver.start();
  });
  // Each test starts with no endpoints: one left subscribed would share the next test's events and queue.
  afterEach(async () => {
    await t.app.models.Webhook.deleteMany({});
    await t.app.models.WebhookDelivery.deleteMany({ status: { $ne: 'running' } });
    await receiver.stop();
  });
  afterAll(async () => {
    await t.stop();
  });

  /** Creates an endpoint pointing at `target` and tells the receiver its secret. */
  async function endpoint(body: Record<string, unknown> = {}, api: ApiClient = org.api, target = receiver) {
    const res = await api.post<Created>('/api/v1/webhooks', { url: target.url, events: ['*'], ...body });
    expect(res.status, JSON.stringify(res.body.error)).toBe(201);
    target.useSecret(res.body.data.secret);
    return res.body.data;
  }
  const deliveries = async (id: string, api: ApiClient = org.api) => {
    const res = await api.get<Delivery[]>(`/api/v1/webhooks/${id}/deliveries`);
    expect(res.status, JSON.stringify(res.body.error)).toBe(200);
    return res.body.data;
  };
  const leadEvent = (organizationId: string, leadId = new Types.ObjectId().toString()) => ({
    organizationId,
    chatbotId: botId,
    leadId,
    conversationId: null,
    fields: { email: 'ada@example.com' },
    source: 'api' as const,
  });

  it('shows the whsec_ secret only on create, and refuses private addresses and unknown fields', async () => {
    const created = await endpoint({ events: ['lead.created'], description: 'CRM' });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    const got = await org.api.get<Record<string, unknown>>(`/api/v1/webhooks/${created.id}`);
    expect(got.body.data).toMatchObject({ events: ['lead.created'], description: 'CRM', enabled: true });
    expect(got.body.data).not.toHaveProperty('secret');
    const listed = await org.api.get<Array<Record<string, unknown>>>('/api/v1/webhooks');
    expect(listed.body.data.every((hook) => !('secret' in hook))).toBe(true);

    for (const url of ['http://10.0.0.8/hook', 'http://169.254.169.254/latest', 'http://[::1]:9/x']) {
      const refused = await org.api.post('/api/v1/webhooks', { url, events: ['*'] });
      expect(refused.status, url).toBe(422);
      expect(refused.body.error?.message).toContain('URL_FETCH_ALLOWED_ADDRESSES');
    }
    const unknown = await org.api.post('/api/v1/webhooks', { url: receiver.url, events: ['*'], secret: 'x' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error?.message).toContain('secret');
    const badEvent = await org.api.post('/api/v1/webhooks', { url: receiver.url, events: ['lead.made'] });
    expect(badEvent.status).toBe(422);
    const foreignBot = await other.api.post('/api/v1/webhooks', { url: receiver.url, events: ['*'], chatbotId: botId });
    expect(foreignBot.status).toBe(404);
  });

  it('asks for webhooks:read to look and webhooks:write to change', async () => {
    const reader = await t.clientWithScopes(org, ['webhooks:read']);
    const chatOnly = await t.clientWithScopes(org, ['chat']);
    expect((await reader.get('/api/v1/webhooks')).status).toBe(200);
    const refused = await reader.post('/api/v1/webhooks', { url: receiver.url, events: ['*'] });
    expect(refused.status).toBe(403);
    expect(refused.body.error?.message).toContain('webhooks:write');
    expect((await chatOnly.get('/api/v1/webhooks')).status).toBe(403);
    const writer = await t.clientWithScopes(org, ['webhooks:write']);
    expect((await writer.post('/api/v1/webhooks', { url: receiver.url, events: ['*'] })).status).toBe(201);
  });

  it('delivers a test event signed per Standard Webhooks, verified by the standardwebhooks package', async () => {
    const hook = await endpoint();
    const sent = await org.api.post<{ deliveryId: string; messageId: string }>(`/api/v1/webhooks/${hook.id}/test`);
    expect(sent.status).toBe(202);
    const [request] = await receiver.waitFor(1);
    expect(request!.verifyError).toBeNull();
    expect(request!.id).toBe(sent.body.data.messageId);
    expect(Math.abs(Number(request!.timestamp) - Date.now() / 1000)).toBeLessThan(60);
    expect(request!.signature).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    expect(request!.verified).toMatchObject({
      type: 'webhook.test',
      data: { organizationId: org.id, webhookId: hook.id },
    });
    const [delivery] = await until(
      () => deliveries(hook.id),
      (list) => list[0]?.status === 'delivered',
    );
    expect(delivery).toMatchObject({ attempts: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    expect(delivery!.lastLatencyMs).toBeGreaterThanOrEqual(0);
  });

  it('is verified by Python’s standardwebhooks package too, and refused there when tampered with', async () => {
    const hook = await endpoint();
    await org.api.post(`/api/v1/webhooks/${hook.id}/test`);
    const [request] = await receiver.waitFor(1);
    const python = fileURLToPath(new URL('../../sdk/python/.venv/bin/python', import.meta.url));
    const script = fileURLToPath(new URL('../test/verify_webhook.py', import.meta.url));
    const verify = (body: string) =>
      new Promise<{ code: number; out: string }>((resolve) => {
        const child = execFile(python, [script], (error, stdout) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: stdout.trim() }),
        );
        const headers = {
          'Webhook-Id': request!.id,
          'Webhook-Timestamp': request!.timestamp,
          'Webhook-Signature': request!.signature,
        };
        child.stdin!.end(JSON.stringify({ secret: hook.secret, body, headers }));
      });
    // The Python SDK's virtualenv (scripts/setup.sh) has the standardwebhooks package.
    expect(await verify(request!.body)).toEqual({ code: 0, out: 'webhook.test' });
    const tampered = await verify(request!.body.replace('A test event', 'A forged event'));
    expect(tampered).toEqual({ code: 1, out: 'refused: No matching signature found' });
  });

  it('delivers a domain event published on the bus with its catalogue payload, filtered by type and bot', async () => {
    const all = await endpoint({ events: ['lead.created'] });
    const otherBot = await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Second' });
    const filtered = await WebhookReceiver.start();
    await endpoint({ events: ['*'], chatbotId: otherBot.body.data.id }, org.api, filtered);
    const leadId = new Types.ObjectId().toString();
    t.app.services.events.notify('lead.created', leadEvent(org.id, leadId));
    t.app.services.events.notify('source.ready', {
      organizationId: org.id,
      chatbotId: botId,
      sourceId: new Types.ObjectId().toString(),
      type: 'text',
      title: 'Shipping',
      chunkCount: 3,
    });
    const [request] = await receiver.waitFor(1);
    expect(request!.verified).toEqual({
      type: 'lead.created',
      timestamp: request!.verified!.data.occurredAt,
      data: { ...leadEvent(org.id, leadId), occurredAt: expect.any(String) },
    });
    // The other bot's endpoint and the lead-only endpoint's other event type: a later event proves they were skipped.
    t.app.services.events.notify('lead.created', { ...leadEvent(org.id), chatbotId: otherBot.body.data.id });
    await filtered.waitFor(1);
    await receiver.waitFor(2);
    expect(receiver.received.map((r) => r.verified?.type)).toEqual(['lead.created', 'lead.created']);
    expect(filtered.received).toHaveLength(1);
    expect((await deliveries(all.id)).length).toBe(2);
    await filtered.stop();
  });

  it('sends lead.created once when a widget visitor first leaves their details, not when they update them', async () => {
    const bot = await createLeadBot(org);
    await endpoint({ events: ['lead.created'], chatbotId: bot.id });
    const visitor = visitorOf(t, bot);
    const fields = { name: 'Ada Lovelace', email: 'ada@webhook.example', budget: '5k' };
    const first = await t.anonymous.post<{ leadId: string }>(
      '/api/v1/widget/leads',
      leadRequest(bot, visitor, { fields }),
    );
    expect(first.status).toBe(201);
    const [request] = await receiver.waitFor(1);
    expect(request!.verified).toMatchObject({
      type: 'lead.created',
      data: {
        organizationId: org.id,
        chatbotId: bot.id,
        leadId: first.body.data.leadId,
        conversationId: null,
        fields,
        source: 'widget',
      },
    });
    const update = leadRequest(bot, visitor, { fields: { ...fields, name: 'Ada King' } });
    expect((await t.anonymous.post('/api/v1/widget/leads', update)).status).toBe(201);
    // A new lead after the update proves the update was recorded (or not) before it.
    const next = leadRequest(bot, visitorOf(t, bot), { fields: { name: 'Grace', email: 'grace@webhook.example' } });
    expect((await t.anonymous.post('/api/v1/widget/leads', next)).status).toBe(201);
    await until(
      async () => t.app.models.WebhookEvent.countDocuments({ type: 'lead.created', body: /grace@webhook/ }),
      (count) => count === 1,
    );
    expect(await t.app.models.WebhookEvent.countDocuments({ type: 'lead.created', body: /ada@webhook/ })).toBe(1);
  });

  it('retries a receiver that answers 500 twice, with the same webhook-id, until it answers 200', async () => {
    const hook = await endpoint({ events: ['lead.created'] });
    receiver.answer = (_request, index) => (index < 2 ? 500 : 200);
    t.app.services.events.notify('lead.created', leadEvent(org.id));
    const requests = await receiver.waitFor(3);
    expect(new Set(requests.map((r) => r.id)).size).toBe(1);
    expect(requests.every((r) => r.verifyError === null)).toBe(true);
    const [delivery] = await until(
      () => deliveries(hook.id),
      (list) => list[0]?.status === 'delivered',
    );
    expect(delivery).toMatchObject({ attempts: 3, lastStatusCode: 200, messageId: requests[0]!.id });
    expect((await org.api.get<Created>(`/api/v1/webhooks/${hook.id}`)).body.data.enabled).toBe(true);
  });

  it('delivers 200 events of a burst, each once', async () => {
    await endpoint({ events: ['lead.created'] });
    for (let n = 0; n < 200; n += 1) t.app.services.events.notify('lead.created', leadEvent(org.id));
    const requests = await receiver.waitFor(200, () => true, 100_000);
    expect(new Set(requests.map((r) => r.id)).size).toBe(200);
    expect(requests.every((r) => r.verifyError === null)).toBe(true);
  }, 120_000);

  it('sends nothing to a disabled endpoint, and nothing across organizations', async () => {
    const disabled = await endpoint({ enabled: false });
    const sentinel = await WebhookReceiver.start();
    await endpoint({ events: ['lead.created'] }, org.api, sentinel);
    const foreign = await WebhookReceiver.start();
    const otherHook = await endpoint({ events: ['*'] }, other.api, foreign);
    t.app.services.events.notify('lead.created', leadEvent(org.id));
    await sentinel.waitFor(1);
    // The event was fanned out (the sentinel has it): neither the disabled nor the other org's endpoint got one.
    expect(receiver.received).toHaveLength(0);
    expect(foreign.received).toHaveLength(0);
    expect(await deliveries(disabled.id)).toHaveLength(0);
    expect((await org.api.post(`/api/v1/webhooks/${disabled.id}/test`)).status).toBe(409);

    for (const [method, path] of [
      ['GET', ''],
      ['PATCH', ''],
      ['DELETE', ''],
      ['GET', '/deliveries'],
      ['POST', '/test'],
      ['POST', '/rotate-secret'],
    ] as const) {
      const res = await org.api.request(
        method,
        `/api/v1/webhooks/${otherHook.id}${path}`,
        method === 'PATCH' ? {} : undefined,
      );
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const mine = await org.api.get<Array<{ id: string }>>('/api/v1/webhooks?perPage=100');
    expect(mine.body.data.map((hook) => hook.id)).not.toContain(otherHook.id);
    await Promise.all([sentinel.stop(), foreign.stop()]);
  });

  it('disables the endpoint that answers 410, and says why', async () => {
    const hook = await endpoint({ events: ['lead.created'] });
    receiver.answer = () => 410;
    t.app.services.events.notify('lead.created', leadEvent(org.id));
    const got = await until(
      () => org.api.get<Created>(`/api/v1/webhooks/${hook.id}`),
      (res) => !res.body.data.enabled,
    );
    expect(got.body.data.disabledReason).toContain('410');
    const [delivery] = await until(
      () => deliveries(hook.id),
      (list) => list[0]?.status === 'failed',
    );
    expect(delivery).toMatchObject({ attempts: 1, lastStatusCode: 410 });
    expect(receiver.received).toHaveLength(1);
  });

  it('disables an endpoint failing for longer than allowed, and does not follow redirects', async () => {
    const hook = await endpoint({ events: ['lead.created'] });
    receiver.answer = () => 302;
    t.app.services.events.notify('lead.created', leadEvent(org.id));
    const got = await until(
      () => org.api.get<Created & { failingSince: string | null }>(`/api/v1/webhooks/${hook.id}`),
      (res) => !res.body.data.enabled,
    );
    expect(got.body.data.disabledReason).toMatch(/every delivery failed since .*302 \(redirects are not followed\)/);
    const [delivery] = await deliveries(hook.id);
    expect(delivery!.lastStatusCode).toBe(302);
    // Enabling it again clears the reason and the failure streak.
    const enabled = await org.api.patch<Created & { failingSince: string | null }>(`/api/v1/webhooks/${hook.id}`, {
      enabled: true,
    });
    expect(enabled.body.data).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
  });

  it('retries a receiver that does not answer within the timeout, with garbage collected during the wait', async () => {
    const hook = await endpoint({ events: ['lead.created'] });
    receiver.answer = (_request, index) => (index === 0 ? 'hang' : 200);
    t.app.services.events.notify('lead.created', leadEvent(org.id));
    // A collection during the wait once lost the timeout's timer (AbortSignal.any of AbortSignal.timeout).
    const collecting = setInterval(collectGarbage, 50);
    const requests = await receiver.waitFor(2).finally(() => clearInterval(collecting));
    expect(requests[0]!.id).toBe(requests[1]!.id);
    const [delivery] = await until(
      () => deliveries(hook.id),
      (list) => list[0]?.status === 'delivered',
    );
    expect(delivery!.attempts).toBe(2);
  });

  it('signs with the old secret beside the new one after a rotation, and redelivers with the same id', async () => {
    const hook = await endpoint({ events: ['lead.created'] });
    const oldSecret = hook.secret;
    const rotated = await org.api.post<Created>(`/api/v1/webhooks/${hook.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.data.secret).not.toBe(oldSecret);
    t.app.services.events.notify('lead.created', leadEvent(org.id));
    const [first] = await receiver.waitFor(1);
    expect(first!.signature.split(' ')).toHaveLength(2);
    expect(first!.verifyError).toBeNull();
    const withNew = await WebhookReceiver.start();
    withNew.useSecret(rotated.body.data.secret);
    receiver.useSecret(rotated.body.data.secret);

    const [delivery] = await until(
      () => deliveries(hook.id),
      (list) => list[0]?.status === 'delivered',
    );
    const again = await org.api.post<Delivery>(`/api/v1/webhooks/${hook.id}/deliveries/${delivery!.id}/redeliver`);
    expect(again.status).toBe(202);
    const [, second] = await receiver.waitFor(2);
    expect(second!.id).toBe(first!.id);
    expect(second!.body).toBe(first!.body);
    expect(second!.verifyError).toBeNull();
    await withNew.stop();
    const missing = await org.api.post(`/api/v1/webhooks/${hook.id}/deliveries/${new Types.ObjectId()}/redeliver`);
    expect(missing.status).toBe(404);
  });

  it('finishes the fan-out of an outbox row a crash left behind', async () => {
    const hook = await endpoint({ events: ['lead.created'] });
    const body = JSON.stringify({ type: 'lead.created', timestamp: new Date().toISOString(), data: {} });
    await t.app.models.WebhookEvent.create({
      organizationId: new Types.ObjectId(org.id),
      type: 'lead.created',
      webhookIds: [new Types.ObjectId(hook.id)],
      body,
      ...queuedJobState(),
    });
    const [request] = await receiver.waitFor(1);
    expect(request!.body).toBe(body);
    expect(request!.verifyError).toBeNull();
  });

  it('forgets fanned-out outbox rows after a day and finished deliveries after 30 days, keeping pending ones', async () => {
    const hook = await endpoint({ events: ['lead.created'] });
    t.app.services.events.notify('lead.created', leadEvent(org.id));
    await receiver.waitFor(1);
    const [delivered] = await until(
      () => deliveries(hook.id),
      (list) => list[0]?.status === 'delivered',
    );
    const pending = await t.app.models.WebhookEvent.create({
      organizationId: new Types.ObjectId(org.id),
      type: 'lead.created',
      webhookIds: [new Types.ObjectId(hook.id)],
      body: '{}',
      ...queuedJobState(new Date(Date.now() + 3_600_000)),
    });
    const day = 24 * 60 * 60 * 1000;
    await t.app.services.webhooks.prune(new Date(Date.now() + 2 * day));
    expect(await t.app.models.WebhookEvent.exists({ _id: pending._id })).not.toBeNull();
    expect(await t.app.models.WebhookDelivery.exists({ _id: delivered!.id })).not.toBeNull();
    await t.app.services.webhooks.prune(new Date(Date.now() + 31 * day));
    expect(await t.app.models.WebhookDelivery.exists({ _id: delivered!.id })).toBeNull();
    expect(await t.app.models.WebhookEvent.exists({ _id: pending._id })).not.toBeNull();
    await t.app.models.WebhookEvent.deleteOne({ _id: pending._id });
  });

  it('documents every event payload in the OpenAPI webhooks section', async () => {
    const doc = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as { webhooks: Record<string, unknown> };
    expect(Object.keys(doc.webhooks).sort()).toEqual(
      [
        'agent_loop.completed',
        'agent_loop.failed',
        'answer.completed',
        'answer.failed',
        'channel.disconnected',
        'conversation.created',
        'integration.failed',
        'lead.created',
        'message.feedback',
        'message.received',
        'quota.warning',
        'source.failed',
        'source.ready',
        'webhook.test',
      ].sort(),
    );
  });
});
