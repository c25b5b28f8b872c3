import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { standardWebhooks } from './signatures.js';
import { startChannelHarness, type ChannelHarness } from './test/channel-harness.js';

interface ChannelData {
  id: string;
  status: string;
  callbackUrl: string | null;
  signingSecret?: string;
}

/** Standard Webhooks headers for a body, as a sender following standardwebhooks.com signs it. */
function signed(secret: string, body: string, id = `msg_${randomUUID()}`, timestamp = Math.floor(Date.now() / 1000)) {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': standardWebhooks.sign(secret, id, String(timestamp), body),
  };
}

describe('webhook channel (any custom platform)', () => {
  let h: ChannelHarness;
  let channel: ChannelData;
  let secret: string;

  const callbacksFor = (text: string) =>
    h.fakes.callsOf('callback').filter((call) => call.body.text === `Echo: ${text}`);
  const message = (text: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ text, user: { id: 'cust-7', name: 'Grace' }, conversation: 'ticket-1', ...extra });

  beforeAll(async () => {
    h = await startChannelHarness();
    const created = await h.org.api.post<ChannelData>(`/api/v1/bots/${h.botId}/channels`, {
      type: 'webhook',
      callbackUrl: h.fakes.callbackUrl,
    });
    expect(created.status).toBe(201);
    channel = created.body.data;
    secret = channel.signingSecret ?? '';
  });
  afterAll(() => h.stop());

  it('shows the generated signing secret once, at creation', async () => {
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
    const fetched = await h.org.api.get(`/api/v1/channels/${channel.id}`);
    expect(JSON.stringify(fetched.body)).not.toContain(secret.slice(6));
    const listed = await h.org.api.get(`/api/v1/chatbots/${h.botId}/channels`);
    expect(JSON.stringify(listed.body)).not.toContain(secret.slice(6));
  });

  it('answers a signed message by POSTing a signed answer to the callback URL', async () => {
    const body = message('Do you ship to Norway?');
    const res = await h.deliver(channel.id, body, signed(secret, body));
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ accepted: 1 });
    await vi.waitFor(() => expect(callbacksFor('Do you ship to Norway?')).toHaveLength(1), { timeout: 10_000 });
    const callback = callbacksFor('Do you ship to Norway?')[0]!;
    expect(callback.body).toMatchObject({ type: 'message.answer', channelId: channel.id, conversation: 'ticket-1' });
    expect(() => standardWebhooks.verify(secret, callback.headers, Buffer.from(callback.rawBody))).not.toThrow();
    const conversation = await h.org.api.get<{ channel: string; visitorId: string; messages: unknown[] }>(
      `/api/v1/conversations/${String(callback.body.conversationId)}`,
    );
    expect(conversation.body.data).toMatchObject({ channel: 'webhook', visitorId: 'webhook:cust-7' });
  });

  it('keeps one conversation per platform conversation id', async () => {
    const body = message('Second question');
    await h.deliver(channel.id, body, signed(secret, body));
    await vi.waitFor(() => expect(callbacksFor('Second question')).toHaveLength(1), { timeout: 10_000 });
    expect(callbacksFor('Second question')[0]!.body.conversationId).toBe(
      callbacksFor('Do you ship to Norway?')[0]!.body.conversationId,
    );
  });

  it('answers in the response when asked for a synchronous reply', async () => {
    const body = message('Answer me right here', { reply: 'sync', conversation: 'ticket-sync' });
    const res = await h.deliver(channel.id, body, signed(secret, body));
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ text: 'Echo: Answer me right here' });
    expect(callbacksFor('Answer me right here')).toHaveLength(0);
  });

  it('answers a message delivered twice with the same webhook-id once', async () => {
    const body = message('Sent twice');
    const headers = signed(secret, body);
    expect((await h.deliver(channel.id, body, headers)).status).toBe(200);
    expect((await h.deliver(channel.id, body, headers)).status).toBe(200);
    await vi.waitFor(() => expect(callbacksFor('Sent twice')).toHaveLength(1), { timeout: 10_000 });
    const after = message('After the retry');
    await h.deliver(channel.id, after, signed(secret, after));
    await vi.waitFor(() => expect(callbacksFor('After the retry')).toHaveLength(1), { timeout: 10_000 });
    expect(callbacksFor('Sent twice')).toHaveLength(1);
    expect(await h.t.app.models.ChannelEvent.countDocuments({ channelId: channel.id, text: 'Sent twice' })).toBe(1);
  });

  it('refuses a bad or stale signature with 401 and stores nothing', async () => {
    const before = await h.storedEvents(channel.id);
    const body = message('forged');
    const wrongSecret = await h.deliver(
      channel.id,
      body,
      signed(`whsec_${Buffer.from('x'.repeat(32)).toString('base64')}`, body),
    );
    expect(wrongSecret.status).toBe(401);
    const tampered = await h.deliver(channel.id, message('tampered'), signed(secret, body));
    expect(tampered.status).toBe(401);
    const stale = await h.deliver(
      channel.id,
      body,
      signed(secret, body, 'msg_old', Math.floor(Date.now() / 1000) - 3600),
    );
    expect(stale.status).toBe(401);
    expect(stale.body.error?.message).toContain('timestamp too old');
    expect(await h.storedEvents(channel.id)).toBe(before);
  });

  it('retries an answer the callback URL cannot take until it is delivered', async () => {
    h.fakes.failNext('callback', 2, 503);
    const body = message('Callback down for a moment');
    await h.deliver(channel.id, body, signed(secret, body));
    await vi.waitFor(() => expect(callbacksFor('Callback down for a moment')).toHaveLength(1), { timeout: 10_000 });
    await vi.waitFor(
      async () => {
        const job = await h.t.app.models.ChannelEvent.findOne({ text: 'Callback down for a moment' }).lean();
        expect(job).toMatchObject({ status: 'done', attempts: 3 });
      },
      { timeout: 10_000 },
    );
  });

  it('turns disconnected when the callback refuses with 401', async () => {
    h.fakes.failNext('callback', 1, 401);
    const body = message('Callback says no');
    await h.deliver(channel.id, body, signed(secret, body));
    await vi.waitFor(
      async () =>
        expect((await h.org.api.get<ChannelData>(`/api/v1/channels/${channel.id}`)).body.data.status).toBe(
          'disconnected',
        ),
      { timeout: 10_000 },
    );
    await vi.waitFor(() => expect(h.disconnections.map((event) => event.type)).toEqual(['webhook']), {
      timeout: 10_000,
    });
    const reconnected = await h.org.api.post<ChannelData>(`/api/v1/channels/${channel.id}/reconnect`);
    expect(reconnected.body.data.status).toBe('connected');
    await vi.waitFor(() => expect(callbacksFor('Callback says no')).toHaveLength(1), { timeout: 10_000 });
  });
});
