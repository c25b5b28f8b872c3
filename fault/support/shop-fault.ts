import { afterAll, beforeAll, expect } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../server/test/fake-llm/fake-llm.server.js';
import { startFakeShop, type FakeShop } from '../../server/test/fake-shop.js';
import { restartAfterKill } from './webhook-fault.js';
import { waitFor, WispServer } from './wisp-server.js';

/** What a model fault test drives: the test model and a Wisp server answering with it. */
export interface ModelFault {
  fake: FakeLlm;
  wisp: WispServer;
}

/** What an action fault test drives: the test model, a shop the bot's actions call, and a Wisp server. */
export interface ShopFault extends ModelFault {
  shop: FakeShop;
}

/**
 * Starts the test model before the file's tests and makes a Wisp server (not started) that answers with it and
 * gives up a cut answer's lease after 2 s, with `defaults` and then `env` on top; both are ended after the tests.
 * `env` is read when the server is made, so a test's own `beforeAll` (registered first) may still fill it in.
 */
export function setupModelFault(env: Record<string, string> = {}, defaults: Record<string, string> = {}): ModelFault {
  const fault = {} as ModelFault;
  beforeAll(async () => {
    fault.fake = await startFakeLlm();
    fault.wisp = new WispServer({
      OPENAI_BASE_URL: fault.fake.url,
      OPENAI_API_KEY: 'test',
      OPENAI_MODEL: 'fake-chat',
      ANSWER_LEASE_MS: '2000',
      ...defaults,
      ...env,
    });
  });
  afterAll(async () => {
    await fault.wisp.dispose();
    await fault.fake.stop();
  });
  return fault;
}

/**
 * `setupModelFault` with a fake shop the bot's actions may call on this machine, also started before the file's
 * tests and stopped after them.
 */
export function setupShopFault(env: Record<string, string> = {}): ShopFault {
  const fault = setupModelFault(env, { ALLOW_PRIVATE_URLS: 'true' }) as ShopFault;
  beforeAll(async () => {
    fault.shop = await startFakeShop();
  });
  afterAll(() => fault.shop.stop());
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

/** How many chat completions the test model has been asked for so far. */
export function modelCalls(fake: FakeLlm): number {
  return fake.calls.filter((call) => call.path === '/v1/chat/completions').length;
}

/**
 * Makes the test model hang on its next answers (until `killAndRestart` lifts it), so the process can be killed
 * while it is asked for one; `untilAsked` resolves once a chat completion was asked for after this call.
 */
export function stallModel(fake: FakeLlm): { untilAsked(): Promise<void> } {
  fake.setLatency(120_000);
  const before = modelCalls(fake);
  return {
    untilAsked: async () => {
      await waitFor(
        async () => modelCalls(fake),
        (count) => count > before,
      );
    },
  };
}

/**
 * `kill -9` of the server (its embedded database dies with it); once it has exited, `whileDown` runs and the
 * test model answers at once again; then the server starts again on the same data.
 */
export async function killAndRestart(
  { wisp, fake }: ModelFault,
  whileDown: () => unknown = () => undefined,
): Promise<void> {
  const database = wisp.databasePid();
  wisp.process!.child.kill('SIGKILL');
  await wisp.process!.exited;
  await whileDown();
  fake.setLatency(0, 0);
  await restartAfterKill(wisp, database);
}

/**
 * The cut of the confirmation tests: with the model stalled, `confirm` sends an approved confirmation and resolves
 * once it is accepted; when the follow-up's model call is out, the action has run (one request to `target` at the
 * shop) and the follow-up is not written yet: then the server is killed and started again (`killAndRestart`).
 */
export async function killMidFollowUp(
  fault: ShopFault,
  target: string,
  confirm: () => Promise<unknown>,
): Promise<void> {
  const stalled = stallModel(fault.fake);
  await confirm();
  await stalled.untilAsked();
  expect(shopRequests(fault, target)).toBe(1);
  await killAndRestart(fault);
}

/** How many requests the shop received for `target` (a path with its query). */
export function shopRequests({ shop }: ShopFault, target: string): number {
  return shop.requests.filter((request) => request.target === target).length;
}

/**
 * The one conversation of a confirmation test, as stored once its follow-up is written: the question and one
 * complete answer with one action call, in `callStatus` (succeeded once approved, declined once declined).
 */
export async function expectConfirmedTurnStored(
  { wisp }: ShopFault,
  callStatus: 'succeeded' | 'declined' = 'succeeded',
): Promise<void> {
  const conversations = await wisp.api.get<Array<{ id: string }>>('/api/v1/conversations');
  const messages = await wisp.api.get<Array<{ role: string; status: string; toolCalls?: Array<{ status: string }> }>>(
    `/api/v1/conversations/${conversations.body.data[0]!.id}/messages`,
  );
  expect(messages.body.data.map((m) => [m.role, m.status])).toEqual([
    ['user', 'complete'],
    ['assistant', 'complete'],
  ]);
  expect(messages.body.data[1]!.toolCalls).toEqual([expect.objectContaining({ status: callStatus })]);
}
