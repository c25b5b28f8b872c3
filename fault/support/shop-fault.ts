import { afterAll, beforeAll, expect } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../server/test/fake-llm/fake-llm.server.js';
import { startFakeShop, type FakeShop } from '../../server/test/fake-shop.js';
import { WispServer } from './wisp-server.js';

/** What an action fault test drives: the test model, a shop the bot's actions call, and a Wisp server. */
export interface ShopFault {
  fake: FakeLlm;
  shop: FakeShop;
  wisp: WispServer;
}

/**
 * Starts the test model and the fake shop before the file's tests and makes a Wisp server (not started)
 * that answers with that model, may call the shop on this machine and gives up a cut answer's lease after
 * 2 s, with `env` on top; all are ended after the tests.
 */
export function setupShopFault(env: Record<string, string> = {}): ShopFault {
  const fault = {} as ShopFault;
  beforeAll(async () => {
    [fault.fake, fault.shop] = await Promise.all([startFakeLlm(), startFakeShop()]);
    fault.wisp = new WispServer({
      OPENAI_BASE_URL: fault.fake.url,
      OPENAI_API_KEY: 'test',
      OPENAI_MODEL: 'fake-chat',
      ALLOW_PRIVATE_URLS: 'true',
      ANSWER_LEASE_MS: '2000',
      ...env,
    });
  });
  afterAll(async () => {
    await fault.wisp.dispose();
    await Promise.all([fault.fake.stop(), fault.shop.stop()]);
  });
  return fault;
}

/**
 * Gives the bot one of the shop's actions: `cancel_order` (a POST that needs the visitor's confirmation)
 * or `order_status` (a GET made at once); returns the action's id.
 */
export async function addShopAction(
  { wisp, shop }: ShopFault,
  chatbotId: string,
  name: 'cancel_order' | 'order_status',
): Promise<string> {
  const parameters = { type: 'object', properties: { orderNumber: { type: 'string' } }, required: ['orderNumber'] };
  const action = await wisp.api.post<{ id: string }>(
    `/api/v1/chatbots/${chatbotId}/actions`,
    name === 'cancel_order'
      ? {
          name,
          description: 'Cancel the order',
          parameters,
          request: { method: 'POST', url: `${shop.url}/api/orders/{params.orderNumber}/cancel`, body: {} },
        }
      : {
          name,
          description: 'Look up an order',
          parameters,
          request: { method: 'GET', url: `${shop.url}/api/orders/{params.orderNumber}` },
          requiresConfirmation: false,
        },
  );
  expect(action.status).toBe(201);
  return action.body.data.id;
}
