import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatbotDto } from '../../shared/schemas/chatbots.js';
import { createLeadBot, leadRequest } from '../leads/leads.fixtures.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { connectWidget, HandshakeRefused, send, type WidgetClient } from '../test/widget-client.js';

const SITE = 'https://shop.example';

/** Low limits so each is met within a few events; every test uses its own simulated addresses. */
const LIMITS = {
  WIDGET_CONNECTS_PER_IP_PER_MINUTE: '4',
  WIDGET_MESSAGES_BURST_PER_VISITOR: '3',
  WIDGET_MESSAGES_PER_VISITOR_PER_MINUTE: '4',
  WIDGET_MESSAGES_PER_IP_PER_MINUTE: '5',
  WIDGET_MESSAGES_PER_BOT_PER_MINUTE: '6',
  WIDGET_EVENTS_PER_IP_PER_MINUTE: '8',
  WIDGET_CONFIG_PER_IP_PER_MINUTE: '3',
  WIDGET_LEADS_PER_IP_PER_MINUTE: '2',
};

describe('widget flood limits', () => {
  let t: TestApp;
  let org: TestOrg;
  const open: WidgetClient[] = [];

  beforeAll(async () => {
    t = await startTestApp({ env: LIMITS });
    org = await t.createOrg('Limits org');
  });
  afterAll(async () => {
    for (const socket of open) socket.disconnect();
    await t.stop();
  });

  async function newBot(slug: string): Promise<ChatbotDto> {
    return (await org.api.post<ChatbotDto>('/api/v1/chatbots', { name: slug, slug, allowedOrigins: [SITE] })).body.data;
  }

  async function connect(bot: string, ip: string, auth: { visitorId?: string; visitorToken?: string } = {}) {
    const connected = await connectWidget(t.url, { bot, ...auth }, { origin: SITE, ip });
    open.push(connected.socket);
    return connected;
  }

  it('lets a visitor send a burst, then refuses with a RateLimitError that says when to retry', async () => {
    await newBot('burst-bot');
    const { socket } = await connect('burst-bot', '198.51.100.1');
    const replies = await Promise.all(Array.from({ length: 5 }, (_, i) => send(socket, `burst ${i}`)));
    expect(replies.filter((r) => r.data)).toHaveLength(3);
    const refused = replies.filter((r) => r.error);
    expect(refused).toHaveLength(2);
    for (const reply of refused) {
      expect(reply.error).toMatchObject({
        name: 'RateLimitError',
        message: expect.stringMatching(/a little fast\. Please wait \d+ seconds? and try again/),
        details: { retryAfterSeconds: expect.any(Number) },
      });
      expect((reply.error?.details as { retryAfterSeconds: number }).retryAfterSeconds).toBeGreaterThan(0);
    }
  });

  it("keeps counting a visitor's messages across a reconnect, on a new socket", async () => {
    await newBot('reconnect-bot');
    const first = await connect('reconnect-bot', '198.51.100.2');
    const sent = await Promise.all(Array.from({ length: 3 }, (_, i) => send(first.socket, `before ${i}`)));
    expect(sent.every((r) => r.data)).toBe(true);
    first.socket.disconnect();

    const again = await connect('reconnect-bot', '198.51.100.2', {
      visitorId: first.session.visitorId,
      visitorToken: first.session.visitorToken,
    });
    expect(again.session.visitorId).toBe(first.session.visitorId);
    expect((await send(again.socket, 'after the reconnect')).error?.name).toBe('RateLimitError');
  });

  it('limits the messages of one address over many visitors, and not those of another address', async () => {
    await newBot('ip-bot');
    const visitors = await Promise.all([1, 2, 3].map(() => connect('ip-bot', '198.51.100.3')));
    const replies = await Promise.all(visitors.flatMap(({ socket }) => [send(socket, 'one'), send(socket, 'two')]));
    expect(replies.filter((r) => r.data)).toHaveLength(5);
    const refused = replies.find((r) => r.error);
    expect(refused?.error).toMatchObject({ name: 'RateLimitError', message: expect.stringMatching(/your network/) });

    const elsewhere = await connect('ip-bot', '198.51.100.4');
    expect((await send(elsewhere.socket, 'from another network')).data).toBeDefined();
  });

  it("caps one bot's widget messages per minute whatever the addresses, leaving other bots alone", async () => {
    const bot = await newBot('ceiling-bot');
    const visitors = await Promise.all(
      Array.from({ length: 4 }, (_, i) => connect('ceiling-bot', `198.51.101.${i + 1}`)),
    );
    const replies = await Promise.all(
      visitors.flatMap(({ socket }) => [send(socket, 'a'), send(socket, 'b'), send(socket, 'c')]),
    );
    expect(replies.filter((r) => r.data)).toHaveLength(6);
    expect(replies.find((r) => r.error)?.error?.message).toMatch(/very busy/);
    expect(await t.app.models.Message.countDocuments({ chatbotId: bot.id, role: 'user' })).toBe(6);

    await newBot('quiet-bot');
    const other = await connect('quiet-bot', '198.51.101.9');
    expect((await send(other.socket, 'still answered')).data).toBeDefined();
  });

  it('gives a repeated message back to the limits: a retry of a stored message is not counted', async () => {
    await newBot('retry-bot');
    const { socket } = await connect('retry-bot', '198.51.100.5');
    const first = await send(socket, 'same', 'retry-same-id');
    for (let i = 0; i < 4; i += 1) {
      const again = await send(socket, 'same', 'retry-same-id', first.data?.conversationId);
      expect(again.data).toMatchObject({ duplicate: true, messageId: first.data?.messageId });
    }
    expect((await send(socket, 'new one')).data).toBeDefined();
  });

  it('refuses handshakes past the limit per address with the time to wait', async () => {
    await newBot('connect-bot');
    for (let i = 0; i < 4; i += 1) await connect('connect-bot', '198.51.100.6');
    const refusal = await connect('connect-bot', '198.51.100.6').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(HandshakeRefused);
    expect(refusal).toMatchObject({
      errorName: 'RateLimitError',
      details: { retryAfterSeconds: expect.any(Number) },
    });
    await expect(connect('connect-bot', '198.51.100.7')).resolves.toBeTruthy();
  });

  it('counts every socket event of an address, not only messages', async () => {
    await newBot('events-bot');
    const { socket } = await connect('events-bot', '198.51.100.8');
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => socket.timeout(10_000).emitWithAck('chat:history', {})),
    );
    expect(replies.filter((r) => r.data)).toHaveLength(8);
    expect(replies.filter((r) => r.error?.name === 'RateLimitError')).toHaveLength(2);
  });

  it('answers widget-config past its limit with 429, the envelope and Retry-After', async () => {
    await newBot('config-bot');
    const headers = { origin: SITE, 'x-forwarded-for': '198.51.100.9' };
    for (let i = 0; i < 3; i += 1) {
      expect((await t.anonymous.get('/api/v1/widget-config?bot=config-bot', headers)).status).toBe(200);
    }
    const refused = await t.anonymous.get('/api/v1/widget-config?bot=config-bot', headers);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.body).toMatchObject({
      data: null,
      error: { name: 'RateLimitError', details: { retryAfterSeconds: expect.any(Number) } },
    });
    const other = await t.anonymous.get('/api/v1/widget-config?bot=config-bot', {
      ...headers,
      'x-forwarded-for': '198.51.100.10',
    });
    expect(other.status).toBe(200);
  });

  it('counts lead submissions of an address over the HTTP route and the socket together', async () => {
    const bot = await createLeadBot(org, { bot: { allowedOrigins: [SITE] } });
    const ip = '198.51.100.11';
    const { socket, session } = await connect(bot.id, ip);
    const overSocket = await socket.timeout(10_000).emitWithAck('lead:submit', {
      fields: { name: 'Ada', email: 'ada@example.com' },
      consent: true,
    });
    expect(overSocket.data).toBeDefined();
    const headers = { origin: SITE, 'x-forwarded-for': ip };
    const overHttp = await t.anonymous.post('/api/v1/widget/leads', leadRequest(bot, session), headers);
    expect(overHttp.status).toBe(201);
    const refused = await t.anonymous.post('/api/v1/widget/leads', leadRequest(bot, session), headers);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.body.error?.name).toBe('RateLimitError');
  });
});
