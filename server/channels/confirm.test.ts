import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeShop, type FakeShop } from '../test/fake-shop.js';
import { standardWebhooks } from './signatures.js';
import { startChannelHarness, type ChannelHarness } from './test/channel-harness.js';
import type { PlatformCall } from './test/platform-fakes.js';

/** Asks the test model to call the confirmation-needing action for one order. */
const cancel = (order: string) => `Cancel it #tool:cancel_order {"orderNumber":"${order}"}`;
const WAIT = { timeout: 10_000 };

describe('answering a paused action from a messaging channel', () => {
  let h: ChannelHarness;
  let shop: FakeShop;

  const cancelled = (order: string) => shop.requests.filter((r) => r.target === `/api/orders/${order}/cancel`);
  const followUps = (calls: PlatformCall[], text: (call: PlatformCall) => string | undefined) =>
    calls.filter((call) => (text(call) ?? '').includes('Tool result:'));

  beforeAll(async () => {
    [h, shop] = await Promise.all([startChannelHarness(), startFakeShop()]);
    const action = await h.org.api.post(`/api/v1/chatbots/${h.botId}/actions`, {
      name: 'cancel_order',
      description: 'Cancel the order',
      parameters: { type: 'object', properties: { orderNumber: { type: 'string' } }, required: ['orderNumber'] },
      request: { method: 'POST', url: `${shop.url}/api/orders/{params.orderNumber}/cancel`, body: {} },
    });
    expect(action.status).toBe(201);
  });
  afterAll(async () => {
    await h.stop();
    await shop.stop();
  });

  describe('telegram: inline keyboard and callback_query', () => {
    const TOKEN = '222222:AAConfirmTokenForTests_xyz';
    let channelId: string;
    let secret: string;
    let updateId = 5000;
    const send = (body: unknown, token = secret) =>
      h.deliver(channelId, JSON.stringify(body), { 'x-telegram-bot-api-secret-token': token });
    const press = (data: string, messageId: number, from = 77) =>
      send({
        update_id: ++updateId,
        callback_query: {
          id: `cbq-${updateId}`,
          from: { id: from, is_bot: false, first_name: 'Ada' },
          chat_instance: '-1',
          data,
          message: { message_id: messageId, date: 1_700_000_000, chat: { id: 77, type: 'private' }, text: 'x' },
        },
      });
    const sent = () => h.fakes.callsOf('sendMessage').filter((call) => call.body.chat_id === '77');
    const keyboardOf = (call: PlatformCall) =>
      (call.body.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> }).inline_keyboard[0]!.map(
        (button) => button.callback_data,
      );
    const answersOf = (id: string) =>
      h.fakes.callsOf('answerCallbackQuery').filter((call) => call.body.callback_query_id === id);

    beforeAll(async () => {
      h.fakes.acceptToken(TOKEN);
      const created = await h.org.api.post<{ id: string }>(`/api/v1/chatbots/${h.botId}/channels`, {
        type: 'telegram',
        credentials: { botToken: TOKEN },
      });
      channelId = created.body.data.id;
      secret = String(h.fakes.callsOf('setWebhook').at(-1)?.body.secret_token);
    });

    it('shows Approve / Decline, runs the approved action once, sends the follow-up once and ignores a second press', async () => {
      await send({
        update_id: ++updateId,
        message: {
          message_id: updateId,
          date: 1_700_000_000,
          text: cancel('1001'),
          from: { id: 77, is_bot: false, first_name: 'Ada' },
          chat: { id: 77, type: 'private' },
        },
      });
      await vi.waitFor(() => expect(sent()).toHaveLength(1), WAIT);
      const question = sent()[0]!;
      expect(String(question.body.text)).toContain('please confirm');
      expect(keyboardOf(question)).toEqual(['wisp:act:yes', 'wisp:act:no']);
      const messageId = (question.result as { message_id: number }).message_id;
      await vi.waitFor(async () => {
        const job = await h.t.app.models.ChannelEvent.findOne({ channelId, deliveredRef: `77:${messageId}` });
        expect(job).not.toBeNull();
      }, WAIT);
      // The token never reaches the platform.
      const paused = await h.t.app.models.ChannelEvent.findOne({ channelId, deliveredRef: `77:${messageId}` }).lean();
      const token = (paused?.answer?.pendingAction as { token: string }).token;
      expect(JSON.stringify(h.fakes.calls.filter((call) => call.platform === 'telegram'))).not.toContain(token);

      // A forged press is refused and stores nothing; a press by someone else in the chat is not taken.
      const stored = await h.storedEvents(channelId);
      const forged = await h.deliver(
        channelId,
        JSON.stringify({ update_id: ++updateId, callback_query: { id: 'forged', data: 'wisp:act:yes' } }),
        { 'x-telegram-bot-api-secret-token': 'not-the-secret' },
      );
      expect(forged.status).toBe(401);
      expect((await press('wisp:act:yes', messageId, 99)).status).toBe(200);
      expect(answersOf(`cbq-${updateId}`)[0]?.body.text).toBe('This was already answered');
      expect(await h.storedEvents(channelId)).toBe(stored);

      expect((await press('wisp:act:yes', messageId)).status).toBe(200);
      const approvedPress = `cbq-${updateId}`;
      await vi.waitFor(() => expect(followUps(sent(), (call) => String(call.body.text))).toHaveLength(1), WAIT);
      expect(answersOf(approvedPress)[0]?.body.text).toBe('Approved');
      expect(cancelled('1001')).toHaveLength(1);
      const followUp = followUps(sent(), (call) => String(call.body.text))[0]!;
      expect(String(followUp.body.text)).toContain('succeeded');
      // The follow-up is an ordinary answer again: rating buttons, distinct from Approve / Decline.
      expect(keyboardOf(followUp)).toEqual(['wisp:up', 'wisp:down']);

      // A second press (either button) continues nothing.
      expect((await press('wisp:act:no', messageId)).status).toBe(200);
      expect(answersOf(`cbq-${updateId}`)[0]?.body.text).toBe('This was already answered');
      // Nothing was stored for it, so nothing more can be sent: the approval was the one job added.
      expect(await h.storedEvents(channelId)).toBe(stored + 1);
      expect(cancelled('1001')).toHaveLength(1);
      expect(followUps(sent(), (call) => String(call.body.text))).toHaveLength(1);
      expect(sent()).toHaveLength(2);
    });
  });
});
