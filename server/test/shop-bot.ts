import { expect } from 'vitest';
import { startFakeLlm, type FakeLlm } from './fake-llm/fake-llm.server.js';
import { startFakeShop, type FakeShop } from './fake-shop.js';
import { startTestApp, type TestApp, type TestOrg } from './test-app.js';

export interface ShopBot {
  fake: FakeLlm;
  shop: FakeShop;
  t: TestApp;
  org: TestOrg;
  botId: string;
  /** The bot's identity secret, to sign visitors' `userToken`s. */
  identitySecret: string;
  stop(): Promise<void>;
}

export interface ShopBotOptions {
  /** Fields of `cancel_order` that differ from the default (e.g. its description or request), from the shop's URL. */
  cancelOrder?: (shopUrl: string) => Record<string, unknown>;
  /** More actions of the bot (after `cancel_order`), made from the shop's URL. */
  actions?: (shopUrl: string) => Array<Record<string, unknown>>;
  /** More settings of the app (e.g. the platform URLs of channel tests). */
  env?: Record<string, string>;
}

/**
 * An app on the test model server with one bot (`slug`) whose `cancel_order` action POSTs to a loopback
 * shop: what the confirmation tests of every door start from. The action needs confirmation (a POST).
 */
export async function startShopBot(orgName: string, slug: string, options: ShopBotOptions = {}): Promise<ShopBot> {
  const [fake, shop] = await Promise.all([startFakeLlm(), startFakeShop()]);
  const t = await startTestApp({
    env: {
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'test',
      OPENAI_MODEL: 'fake-chat',
      MODEL_RETRY_BACKOFF_MS: '10',
      URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1',
      ...options.env,
    },
  });
  const org = await t.createOrg(orgName);
  const bot = await org.api.post<{ id: string; identitySecret: string }>('/api/v1/chatbots', { name: 'Shop', slug });
  const botId = bot.body.data.id;
  const action = await org.api.post(`/api/v1/chatbots/${botId}/actions`, {
    name: 'cancel_order',
    description: 'Cancel the order',
    parameters: { type: 'object', properties: { orderNumber: { type: 'string' } }, required: ['orderNumber'] },
    request: { method: 'POST', url: `${shop.url}/api/orders/{params.orderNumber}/cancel`, body: {} },
    ...options.cancelOrder?.(shop.url),
  });
  expect(action.status).toBe(201);
  for (const extra of options.actions?.(shop.url) ?? []) {
    const created = await org.api.post(`/api/v1/chatbots/${botId}/actions`, extra);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  }
  return {
    fake,
    shop,
    t,
    org,
    botId,
    identitySecret: bot.body.data.identitySecret,
    async stop() {
      await t.stop();
      await Promise.all([fake.stop(), shop.stop()]);
    },
  };
}
