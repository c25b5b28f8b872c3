import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startShopBot, type ShopBot } from '../test/shop-bot.js';

interface ChatData {
  response: string;
  conversationId: string;
  messageId: string;
  requiresAction?: { token: string } | null;
}
interface Run {
  status: string;
  source: string;
  sends: number;
  idempotencyKey: string | null;
}

const KEY = /^wisp-[0-9a-f]{24}-[0-9a-f]{24}$/;
const WAIT = { timeout: 10_000 };

describe('action calls a chat turn makes are made once per turn', () => {
  let bot: ShopBot;
  let orderStatusId: string;

  beforeAll(async () => {
    bot = await startShopBot('Chat calls', 'calls-shop', {
      actions: (shopUrl) => [
        {
          name: 'order_status',
          description: 'Status of an order',
          parameters: { type: 'object', properties: { orderNumber: { type: 'string' } }, required: ['orderNumber'] },
          request: { method: 'GET', url: `${shopUrl}/api/orders/{params.orderNumber}` },
        },
      ],
    });
    const actions = await bot.org.api.get<Array<{ id: string; name: string }>>(`/api/v1/chatbots/${bot.botId}/actions`);
    orderStatusId = actions.body.data.find((action) => action.name === 'order_status')!.id;
  });
  beforeEach(() => {
    bot.fake.reset();
    bot.shop.reset();
  });
  afterAll(() => bot.stop());

  const chat = (body: Record<string, unknown>) =>
    bot.org.api.post<ChatData>('/api/v1/chat', { chatbotId: bot.botId, ...body });
  const ask = (order: string) => `Where is it? #tool:order_status {"orderNumber":"${order}"}`;
  const requestsTo = (path: string) => bot.shop.requests.filter((request) => request.target === path);
  const runs = async () =>
    (await bot.org.api.get<Run[]>(`/api/v1/actions/${orderStatusId}/runs?perPage=100`)).body.data;

  it('sends a stable Idempotency-Key, derived from the answer, and lists it with the run', async () => {
    const res = await chat({ message: ask('1001') });
    expect(res.status).toBe(200);
    expect(res.body.data.response).toContain('Tool result:');
    const [request] = requestsTo('/api/orders/1001');
    const key = request!.headers['idempotency-key'] as string;
    expect(key).toMatch(KEY);
    expect(key).toContain(res.body.data.messageId);
    expect((await runs())[0]).toMatchObject({ status: 'succeeded', source: 'chat', sends: 1, idempotencyKey: key });

    // An approved action carries one too, and the follow-up's own calls would have keys of their own.
    const paused = await chat({ message: 'Cancel it #tool:cancel_order {"orderNumber":"1002"}' });
    const approved = await bot.org.api.post('/api/v1/chat/confirm', {
      token: paused.body.data.requiresAction!.token,
      approve: true,
    });
    expect(approved.status).toBe(200);
    const [cancel] = requestsTo('/api/orders/1002/cancel');
    expect(cancel!.headers['idempotency-key']).toMatch(KEY);
    expect(cancel!.headers['idempotency-key']).toContain(paused.body.data.messageId);
  });

  it('a turn retried after the model failed reuses the call’s stored answer: the target is called once', async () => {
    // The model asks for the call, then fails on the answer after it (400 is not retried by the client).
    bot.fake.failLater(1, 1, 400);
    const failed = await chat({ message: ask('2001'), sessionId: 'retry-2001', clientMessageId: 'cm-2001' });
    expect(failed.status).not.toBe(200);
    expect(requestsTo('/api/orders/2001')).toHaveLength(1);

    const retried = await chat({ message: ask('2001'), sessionId: 'retry-2001', clientMessageId: 'cm-2001' });
    expect(retried.status).toBe(200);
    expect(retried.body.data.response).toContain('shipped');
    // The model named its call anew; the same action with the same arguments in the same turn is the same call.
    expect(bot.fake.calls.filter((call) => call.path === '/v1/chat/completions')).toHaveLength(4);
    expect(requestsTo('/api/orders/2001')).toHaveLength(1);
    expect(bot.shop.effects('/api/orders/2001')).toBe(1);
  });

  it('a call cut before its answer is sent again with the same key, and a target honouring it acts once', async () => {
    bot.shop.hold('/api/orders/3001');
    const controller = new AbortController();
    const first = fetch(`${bot.t.url}/api/v1/chat`, {
      method: 'POST',
      headers: bot.org.api.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({
        chatbotId: bot.botId,
        message: ask('3001'),
        sessionId: 's-3001',
        clientMessageId: 'cm-3001',
      }),
      signal: controller.signal,
    }).catch(() => null);
    await vi.waitFor(() => expect(requestsTo('/api/orders/3001')).toHaveLength(1), WAIT);
    // The client leaves while the request is out: the turn is cut, and no answer of the call is kept.
    controller.abort();
    await first;
    await vi.waitFor(async () => {
      const answer = await bot.t.app.models.Message.findOne({ role: 'assistant', status: 'failed' })
        .sort({ _id: -1 })
        .lean();
      expect(answer?.toolCalls ?? []).toEqual([]);
      expect(answer).not.toBeNull();
    }, WAIT);
    bot.shop.release();

    const retried = await chat({ message: ask('3001'), sessionId: 's-3001', clientMessageId: 'cm-3001' });
    expect(retried.status).toBe(200);
    expect(retried.body.data.response).toContain('shipped');
    const requests = requestsTo('/api/orders/3001');
    expect(requests).toHaveLength(2);
    expect(requests[1]!.headers['idempotency-key']).toBe(requests[0]!.headers['idempotency-key']);
    expect(bot.shop.effects('/api/orders/3001')).toBe(1);
    const run = (await runs()).find((r) => r.idempotencyKey === requests[0]!.headers['idempotency-key']);
    expect(run).toMatchObject({ status: 'succeeded', sends: 2 });
  });
});
