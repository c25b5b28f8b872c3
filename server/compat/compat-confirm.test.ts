import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeShop } from '../test/fake-shop.js';
import { startShopBot, type ShopBot } from '../test/shop-bot.js';
import type { TestOrg } from '../test/test-app.js';

interface Pending {
  token: string;
  action: string;
  arguments: Record<string, unknown>;
}

describe('a paused action through the compatibility dialects', () => {
  let running: ShopBot;
  let shop: FakeShop;
  let org: TestOrg;
  let botId: string;

  beforeAll(async () => {
    running = await startShopBot('Dialects confirm', 'dialect-shop');
    ({ shop, org, botId } = running);
  });
  afterAll(() => running?.stop());

  const ask = (order: string) => `Cancel it #tool:cancel_order {"orderNumber":"${order}"}`;
  /** Continues a paused answer the one way every dialect shares, with the same key. */
  const confirmOnce = async (pending: Pending | undefined, order: string) => {
    expect(pending).toMatchObject({ action: 'cancel_order', arguments: { orderNumber: order } });
    const approved = await org.api.post<{ status: string }>('/api/v1/chat/confirm', {
      token: pending!.token,
      approve: true,
    });
    expect(approved.status).toBe(200);
    expect(approved.body.data.status).toBe('succeeded');
    // Sent again, it replays the stored outcome: the action is not sent twice.
    const again = await org.api.post<{ status: string }>('/api/v1/chat/confirm', {
      token: pending!.token,
      approve: true,
    });
    expect(again.status).toBe(200);
    expect(again.body.data.status).toBe('succeeded');
    expect(shop.requests.filter((r) => r.target === `/api/orders/${order}/cancel`)).toHaveLength(1);
  };

  it('/v1/query answers requires_action with the token', async () => {
    const res = await org.api.post<{ requires_action?: Pending }>('/v1/query', {
      message: ask('8001'),
      chatbot_id: botId,
    });
    expect(res.status).toBe(200);
    await confirmOnce(res.body.data.requires_action, '8001');
  });

  it('the snake_case /api/chat answers requires_action, keeping the action’s argument names as they are', async () => {
    const res = await org.api.post<{ requires_action?: Pending }>('/api/chat', {
      message: ask('8002'),
      chatbot_id: botId,
    });
    expect(res.status).toBe(200);
    expect(res.body.data.requires_action?.arguments).toEqual({ orderNumber: '8002' });
    await confirmOnce(res.body.data.requires_action, '8002');
  });

  it('/chat/{slug} answers requiresAction in its JSON answer', async () => {
    const res = await org.api.post<{ requiresAction?: Pending }>('/api/v1/chat/dialect-shop', { message: ask('8003') });
    expect(res.status).toBe(200);
    await confirmOnce(res.body.data.requiresAction, '8003');
  });
});
