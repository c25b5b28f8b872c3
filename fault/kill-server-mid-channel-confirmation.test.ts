import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatformFakes, type PlatformFakes } from '../server/channels/test/platform-fakes.js';
import { addWebhookChannel } from './support/channel-fault.js';
import {
  addShopAction,
  expectConfirmedTurnStored,
  killMidFollowUp,
  setupShopFault,
  shopRequests,
} from './support/shop-fault.js';
import { waitFor } from './support/wisp-server.js';

const CANCEL = '/api/orders/7001/cancel';

describe('kill -9 of the server after a channel confirmation ran its action, before the follow-up was written', () => {
  const fault = setupShopFault({ CHANNEL_REPLY_LEASE_MS: '2000', CHANNEL_REPLY_BACKOFF_MS: '100' });
  let fakes: PlatformFakes;
  beforeAll(async () => {
    fakes = await startPlatformFakes();
  });
  afterAll(() => fakes.stop());

  it('resumes after the restart: the stored outcome is reused, the follow-up is written and delivered once', async () => {
    const { wisp } = fault;
    await wisp.start();
    const chatbotId = await wisp.createBot('Crash');
    await addShopAction(fault, chatbotId, 'cancel_order');
    const { deliver, callbacks, followUps } = await addWebhookChannel(wisp, chatbotId, fakes);

    const user = { id: 'cust-1' };
    const asked = await deliver({
      text: 'Cancel it #tool:cancel_order {"orderNumber":"7001"}',
      user,
      conversation: 't-1',
    });
    expect(asked.status).toBe(200);
    await waitFor(
      async () => callbacks().length,
      (count) => count > 0,
    );
    const token = (callbacks()[0]!.body.requiresAction as { token: string }).token;

    await killMidFollowUp(fault, CANCEL, async () => {
      const confirmed = await deliver({ type: 'confirm', token, approve: true, user });
      expect(confirmed.body.data).toEqual({ accepted: 1 });
    });

    await waitFor(
      async () => followUps().length,
      (count) => count > 0,
      60_000,
    );
    expect(String(followUps()[0]!.body.text)).toContain('succeeded');
    // Reused, not called again.
    expect(shopRequests(fault, CANCEL)).toBe(1);
    await expectConfirmedTurnStored(fault);

    // The same confirmation delivered again continues nothing more.
    expect((await deliver({ type: 'confirm', token, approve: true, user })).status).toBe(404);
    expect(followUps()).toHaveLength(1);
    expect(shopRequests(fault, CANCEL)).toBe(1);
  }, 240_000);
});
