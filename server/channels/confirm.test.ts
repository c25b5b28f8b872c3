import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FakeShop } from '../test/fake-shop.js';
import { startShopBot } from '../test/shop-bot.js';
import { standardWebhooks } from './signatures.js';
import { channelHarnessOf, platformEnv, type ChannelHarness } from './test/channel-harness.js';
import { startPlatformFakes, type PlatformCall } from './test/platform-fakes.js';

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
    const fakes = await startPlatformFakes();
    const running = await startShopBot('Channel confirm', 'channel-shop', { env: platformEnv(fakes) });
    shop = running.shop;
    h = channelHarnessOf({
      ...running,
      llm: running.fake,
      fakes,
      stop: async () => {
        await running.stop();
        await fakes.stop();
      },
    });
  });
  afterAll(() => h?.stop());

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
      // As on Slack, a group member who did not ask is told only the asker may answer (not "already answered").
      expect((await press('wisp:act:yes', messageId, 99)).status).toBe(200);
      expect(answersOf(`cbq-${updateId}`)[0]?.body.text).toBe(
        'Only the user who asked can approve or decline this action',
      );
      expect(await h.storedEvents(channelId)).toBe(stored);

      expect((await press('wisp:act:yes', messageId)).status).toBe(200);
      const approvedPress = `cbq-${updateId}`;
      await vi.waitFor(() => expect(followUps(sent(), (call) => String(call.body.text))).toHaveLength(1), WAIT);
      expect(answersOf(approvedPress)[0]?.body.text).toBe('Approved');
      await vi.waitFor(() => expect(h.fakes.callsOf('editMessageReplyMarkup')).toHaveLength(1), WAIT);
      expect(h.fakes.callsOf('editMessageReplyMarkup')[0]!.body).toEqual({
        chat_id: '77',
        message_id: messageId,
        reply_markup: { inline_keyboard: [] },
      });
      expect(cancelled('1001')).toHaveLength(1);
      const followUp = followUps(sent(), (call) => String(call.body.text))[0]!;
      expect(String(followUp.body.text)).toContain('succeeded');
      // The follow-up is an ordinary answer again: rating buttons, distinct from Approve / Decline.
      expect(keyboardOf(followUp)).toEqual(['wisp:up', 'wisp:down']);

      // A second press (either button) continues nothing.
      expect((await press('wisp:act:no', messageId)).status).toBe(200);
      expect(answersOf(`cbq-${updateId}`)[0]?.body.text).toBe(
        'This was already answered (approved): nothing more was done',
      );
      // The other member pressing now hears the same: nothing waits any more.
      expect((await press('wisp:act:yes', messageId, 99)).status).toBe(200);
      expect(answersOf(`cbq-${updateId}`)[0]?.body.text).toBe(
        'This was already answered (approved): nothing more was done',
      );
      // Nothing was stored for it, so nothing more can be sent: the approval was the one job added.
      expect(await h.storedEvents(channelId)).toBe(stored + 1);
      expect(cancelled('1001')).toHaveLength(1);
      expect(followUps(sent(), (call) => String(call.body.text))).toHaveLength(1);
      expect(sent()).toHaveLength(2);
    });
  });

  describe('whatsapp: interactive reply buttons', () => {
    const ACCESS_TOKEN = 'EAAG-confirm-access-token';
    const APP_SECRET = 'confirm-app-secret';
    const WA_ID = '4915199999999';
    let channelId: string;
    let seq = 0;
    const delivery = (message: Record<string, unknown>, from = WA_ID) =>
      JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: 'WABA1',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '15550100', phone_number_id: '1065550199' },
                  contacts: [{ profile: { name: 'Lin' }, wa_id: from }],
                  messages: [{ from, id: `wamid.CONF${++seq}`, timestamp: '1700000000', ...message }],
                },
              },
            ],
          },
        ],
      });
    const deliver = (body: string, secret = APP_SECRET) =>
      h.deliver(channelId, body, {
        'content-type': 'application/json',
        'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      });
    const buttonReply = (id: string, context: string, from = WA_ID) =>
      delivery(
        {
          type: 'interactive',
          context: { from: '15550100', id: context },
          interactive: { type: 'button_reply', button_reply: { id, title: 'x' } },
        },
        from,
      );
    const OTHER = '4915100000000';
    const toUser = () => h.fakes.callsOf('messages').filter((call) => call.body.to === WA_ID);
    const toOther = () => h.fakes.callsOf('messages').filter((call) => call.body.to === OTHER);
    const textOf = (call: PlatformCall) => (call.body.text as { body?: string } | undefined)?.body;
    const buttonsOf = (call: PlatformCall) =>
      (call.body.interactive as { action: { buttons: Array<{ reply: { id: string } }> } }).action.buttons.map(
        (button) => button.reply.id,
      );
    /**
     * The asker asks to cancel `order`; once the Approve / Decline question is sent and its delivery stored,
     * resolves with that question's WhatsApp id and the paused action's confirmation token.
     */
    const askToCancel = async (order: string) => {
      const asked = toUser().filter((call) => call.body.type === 'interactive').length;
      expect((await deliver(delivery({ type: 'text', text: { body: cancel(order) } }))).status).toBe(200);
      await vi.waitFor(
        () => expect(toUser().filter((call) => call.body.type === 'interactive')).toHaveLength(asked + 1),
        WAIT,
      );
      const question = toUser()
        .filter((call) => call.body.type === 'interactive')
        .at(-1)!;
      const questionId = (question.result as { messages: Array<{ id: string }> }).messages[0]!.id;
      await vi.waitFor(async () => {
        expect(await h.t.app.models.ChannelEvent.exists({ channelId, deliveredRef: questionId })).not.toBeNull();
      }, WAIT);
      const paused = await h.t.app.models.ChannelEvent.findOne({ channelId, deliveredRef: questionId }).lean();
      return { questionId, token: (paused?.answer?.pendingAction as { token: string }).token };
    };

    beforeAll(async () => {
      h.fakes.acceptToken(ACCESS_TOKEN);
      const created = await h.org.api.post<{ id: string }>(`/api/v1/chatbots/${h.botId}/channels`, {
        type: 'whatsapp',
        credentials: {
          accessToken: ACCESS_TOKEN,
          appSecret: APP_SECRET,
          verifyToken: 'confirm-verify',
          phoneNumberId: '1065550199',
        },
      });
      expect(created.status).toBe(201);
      channelId = created.body.data.id;
    });

    it("asks with Approve / Decline reply buttons, tells another number its press is not theirs (the question still waits), continues on the asker's press and tells a second press it was answered", async () => {
      expect((await deliver(delivery({ type: 'text', text: { body: cancel('2002') } }))).status).toBe(200);
      await vi.waitFor(() => expect(toUser().filter((call) => call.body.type === 'interactive')).toHaveLength(1), WAIT);
      const question = toUser().find((call) => call.body.type === 'interactive')!;
      expect(buttonsOf(question)).toEqual(['wisp:act:yes', 'wisp:act:no']);
      // The short question itself carries the buttons, as a reply to the visitor's message.
      expect((question.body.interactive as { body: { text: string } }).body.text).toContain('please confirm');
      expect(question.body.context).toEqual({ message_id: expect.stringMatching(/^wamid\.CONF/) });
      expect(toUser().filter((call) => textOf(call)?.includes('please confirm'))).toHaveLength(0);
      const questionId = (question.result as { messages: Array<{ id: string }> }).messages[0]!.id;
      await vi.waitFor(async () => {
        expect(await h.t.app.models.ChannelEvent.exists({ channelId, deliveredRef: questionId })).not.toBeNull();
      }, WAIT);
      const stored = await h.storedEvents(channelId);

      // A bad signature is refused with nothing stored.
      expect((await deliver(buttonReply('wisp:act:yes', questionId), 'wrong-secret')).status).toBe(401);
      expect(await h.storedEvents(channelId)).toBe(stored);

      // Another number's press approves nothing: that number is told so (never who asked or what), in reply to
      // its press, and the question still waits for the asker.
      const before = toUser().length;
      const pressed = await deliver(buttonReply('wisp:act:yes', questionId, OTHER));
      expect(pressed.status).toBe(200);
      const refusals = toOther();
      expect(refusals).toHaveLength(1);
      expect(refusals[0]!.body).toMatchObject({
        type: 'text',
        context: { message_id: `wamid.CONF${seq}` },
        text: {
          body: 'Only the person this question was sent to can approve or decline this action: nothing was done.',
        },
      });
      expect(await h.storedEvents(channelId)).toBe(stored);
      expect(toUser()).toHaveLength(before);
      expect(cancelled('2002')).toHaveLength(0);
      const paused = await h.t.app.models.ChannelEvent.findOne({ channelId, deliveredRef: questionId }).lean();
      const token = (paused?.answer?.pendingAction as { token: string }).token;
      expect(await h.t.app.models.Message.exists({ 'pendingAction.token': token })).not.toBeNull();

      // The asker's own press then declines it, once.
      expect((await deliver(buttonReply('wisp:act:no', questionId))).status).toBe(200);
      await vi.waitFor(() => expect(followUps(toUser(), textOf)).toHaveLength(1), WAIT);
      expect(textOf(followUps(toUser(), textOf)[0]!)).toContain('declined');
      expect(cancelled('2002')).toHaveLength(0);
      // The follow-up is rated like any answer: the rating question, not Approve / Decline again.
      await vi.waitFor(() => expect(toUser().filter((call) => call.body.type === 'interactive')).toHaveLength(2), WAIT);
      expect(buttonsOf(toUser().filter((call) => call.body.type === 'interactive')[1]!)).toEqual([
        'wisp:up',
        'wisp:down',
      ]);

      // A second press by the asker continues nothing, and says so; the other number still hears only that the
      // press is not theirs (not how the asker answered).
      expect((await deliver(buttonReply('wisp:act:yes', questionId))).status).toBe(200);
      expect(textOf(toUser().at(-1)!)).toBe('This was already answered (declined): nothing more was done.');
      expect((await deliver(buttonReply('wisp:act:yes', questionId, OTHER))).status).toBe(200);
      expect(toOther().map(textOf)).toEqual([
        'Only the person this question was sent to can approve or decline this action: nothing was done.',
        'Only the person this question was sent to can approve or decline this action: nothing was done.',
      ]);
      expect(await h.storedEvents(channelId)).toBe(stored + 1);
      expect(cancelled('2002')).toHaveLength(0);
      expect(followUps(toUser(), textOf)).toHaveLength(1);
    });

    it('tells the asker at once, in reply to the press, when the action was decided through the API meanwhile', async () => {
      const { questionId, token } = await askToCancel('2003');

      // An operator approves it through the API; the asker then presses Decline on the question still shown.
      expect((await h.org.api.post('/api/v1/chat/confirm', { token, approve: true })).status).toBe(200);
      expect(cancelled('2003')).toHaveLength(1);
      const stored = await h.storedEvents(channelId);
      const before = toUser().length;
      expect((await deliver(buttonReply('wisp:act:no', questionId))).status).toBe(200);

      // The press is answered at once (no job to wait for), saying how it was decided; nothing more is done.
      expect(toUser()).toHaveLength(before + 1);
      expect(toUser().at(-1)!.body).toMatchObject({
        type: 'text',
        context: { message_id: `wamid.CONF${seq}` },
        text: { body: 'This was already answered (approved): nothing more was done.' },
      });
      expect(await h.storedEvents(channelId)).toBe(stored);
      expect(cancelled('2003')).toHaveLength(1);
    });

    it('tells the asker, in reply to the press, when the action was decided through the API before its press was run', async () => {
      const { questionId, token } = await askToCancel('2004');

      // The press is taken while the action still waits, but the reply jobs are stopped: before its job runs, an
      // operator declines the action through the API.
      const replies = h.t.app.services.channelReplies;
      await replies.stop();
      const before = toUser().length;
      try {
        expect((await deliver(buttonReply('wisp:act:yes', questionId))).status).toBe(200);
        expect(toUser()).toHaveLength(before);
        expect((await h.org.api.post('/api/v1/chat/confirm', { token, approve: false })).status).toBe(200);
      } finally {
        replies.start();
      }

      // The job continues nothing, and the press is answered with how it was decided.
      await vi.waitFor(() => expect(toUser()).toHaveLength(before + 1), WAIT);
      expect(toUser().at(-1)!.body).toMatchObject({
        type: 'text',
        context: { message_id: `wamid.CONF${seq}` },
        text: { body: 'This was already answered (declined): nothing more was done.' },
      });
      expect(followUps(toUser(), textOf).filter((call) => textOf(call)?.includes('2004'))).toHaveLength(0);
      expect(cancelled('2004')).toHaveLength(0);
    });
  });

  describe('slack: "approve" / "decline" in the thread', () => {
    const BOT_TOKEN = 'xoxb-confirm-bot-token';
    const SIGNING_SECRET = 'slack-confirm-signing-secret';
    let channelId: string;
    let seq = 0;
    const headers = (body: string, secret = SIGNING_SECRET) => {
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
      return {
        'content-type': 'application/json',
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': `v0=${signature}`,
      };
    };
    const message = (text: string, extra: Record<string, unknown> = {}) => {
      seq += 1;
      return JSON.stringify({
        type: 'event_callback',
        team_id: 'T9',
        event_id: `EvConf${seq}`,
        event: { type: 'message', channel: 'C9', user: 'U7', text, ts: `1700000100.00${seq}`, ...extra },
      });
    };
    const deliver = (body: string, secret?: string) => h.deliver(channelId, body, headers(body, secret));
    const posts = () => h.fakes.callsOf('chat.postMessage').filter((call) => call.body.channel === 'C9');
    const textOf = (call: PlatformCall) => String(call.body.text);
    const ephemerals = (user: string) =>
      h.fakes.callsOf('chat.postEphemeral').filter((call) => call.body.user === user);
    let updatesBefore = 0;
    const updates = () => h.fakes.callsOf('chat.update').slice(updatesBefore);
    type Block = { type: string; elements?: Array<{ action_id?: string; text?: string }> };
    const actionsOf = (call: PlatformCall) =>
      (call.body.blocks as Block[]).filter((block) => block.type === 'actions').flatMap((block) => block.elements);
    const decisionOf = (call: PlatformCall) =>
      (call.body.blocks as Block[]).find((block) => block.type === 'context')?.elements?.[0]?.text;
    // The fake answers each call with a ts made of its position among all calls.
    const postedTsOf = (call: PlatformCall) => `1800000000.${String(h.fakes.calls.indexOf(call) + 1).padStart(6, '0')}`;

    beforeAll(async () => {
      h.fakes.acceptToken(BOT_TOKEN);
      const created = await h.org.api.post<{ id: string }>(`/api/v1/chatbots/${h.botId}/channels`, {
        type: 'slack',
        credentials: { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET },
      });
      expect(created.status).toBe(201);
      channelId = created.body.data.id;
    });

    it('asks in the thread, takes the asker’s reply, answers once and ignores a repeated reply', async () => {
      updatesBefore = h.fakes.callsOf('chat.update').length;
      const asked = message(cancel('3003'));
      const threadTs = (JSON.parse(asked) as { event: { ts: string } }).event.ts;
      expect((await deliver(asked)).status).toBe(200);
      await vi.waitFor(() => expect(posts()).toHaveLength(1), WAIT);
      expect(textOf(posts()[0]!)).toContain('reply *approve* or *decline* in this thread');
      expect(posts()[0]!.body.thread_ts).toBe(threadTs);
      await vi.waitFor(async () => {
        const job = await h.t.app.models.ChannelEvent.findOne({ channelId, text: cancel('3003') }).lean();
        expect(job?.deliveredAt).not.toBeNull();
      }, WAIT);
      const stored = await h.storedEvents(channelId);

      expect((await deliver(message('approve', { thread_ts: threadTs }), 'wrong-secret')).status).toBe(401);
      // Someone else in the thread cannot approve for the asker, and is told so, alone, in the thread.
      expect((await deliver(message('approve', { thread_ts: threadTs, user: 'U8' }))).status).toBe(200);
      expect(await h.storedEvents(channelId)).toBe(stored);
      expect(ephemerals('U8').at(-1)?.body).toMatchObject({
        channel: 'C9',
        thread_ts: threadTs,
        text: 'Only <@U7>, who asked, can approve or decline this action.',
      });
      expect(updates()).toHaveLength(0);

      const approve = message('Approve', { thread_ts: threadTs });
      expect((await deliver(approve)).status).toBe(200);
      await vi.waitFor(() => expect(followUps(posts(), textOf)).toHaveLength(1), WAIT);
      expect(cancelled('3003')).toHaveLength(1);
      expect(followUps(posts(), textOf)[0]!.body.thread_ts).toBe(threadTs);
      // The question's buttons give way to the decision.
      expect(updates().map((call) => [call.body.ts, actionsOf(call), decisionOf(call)])).toEqual([
        [postedTsOf(posts()[0]!), [], '✅ Approved by <@U7>'],
      ]);

      // Slack retrying the delivery, and the visitor saying it again, continue nothing more; the visitor hears why.
      expect((await deliver(approve)).status).toBe(200);
      expect((await deliver(message('decline', { thread_ts: threadTs }))).status).toBe(200);
      expect(await h.storedEvents(channelId)).toBe(stored + 1);
      expect(cancelled('3003')).toHaveLength(1);
      expect(posts()).toHaveLength(2);
      expect(ephemerals('U7').at(-1)?.body.text).toBe('This was already answered (approved): nothing more was done.');

      // "approve" in a thread where nothing ever waited is an ordinary question.
      const other = message('Hello');
      const otherTs = (JSON.parse(other) as { event: { ts: string } }).event.ts;
      await deliver(other);
      await deliver(message('approve', { thread_ts: otherTs }));
      await vi.waitFor(() => expect(posts().filter((call) => textOf(call) === 'Echo: approve')).toHaveLength(1), WAIT);
    });

    it('shows Block Kit Approve / Decline buttons and takes the signed interactivity payload, once', async () => {
      updatesBefore = h.fakes.callsOf('chat.update').length;
      const questions = () => posts().filter((call) => Array.isArray(call.body.blocks));
      const before = questions().length;
      const asked = message(cancel('3004'));
      const threadTs = (JSON.parse(asked) as { event: { ts: string } }).event.ts;
      await deliver(asked);
      await vi.waitFor(() => expect(questions()).toHaveLength(before + 1), WAIT);
      const question = questions().at(-1)!;
      const blocks = question.body.blocks as Array<{ type: string; elements?: Array<{ action_id?: string }> }>;
      expect(blocks.find((block) => block.type === 'actions')?.elements?.map((e) => e.action_id)).toEqual([
        'wisp_confirm_approve',
        'wisp_confirm_decline',
      ]);
      const postedTs = postedTsOf(question);
      await vi.waitFor(async () => {
        expect(await h.t.app.models.ChannelEvent.exists({ channelId, deliveredRef: `C9:${postedTs}` })).not.toBeNull();
      }, WAIT);
      const press = (actionId: string, user = 'U7') =>
        `payload=${encodeURIComponent(
          JSON.stringify({
            type: 'block_actions',
            user: { id: user, username: 'ada' },
            team: { id: 'T9' },
            container: { type: 'message', channel_id: 'C9', message_ts: postedTs, thread_ts: threadTs },
            channel: { id: 'C9' },
            message: { ts: postedTs, thread_ts: threadTs, text: 'x' },
            response_url: 'https://hooks.slack.com/actions/T9/1/x',
            actions: [{ type: 'button', action_id: actionId, block_id: 'wisp_confirm', value: 'x' }],
          }),
        )}`;
      // As Slack posts it: a form, signed over its exact bytes like events.
      const form = async (body: string, secret?: string) => {
        const res = await fetch(`${h.t.url}/api/v1/channels/${channelId}/events`, {
          method: 'POST',
          headers: { ...headers(body, secret), 'content-type': 'application/x-www-form-urlencoded' },
          body,
        });
        return { status: res.status, body: (await res.json()) as unknown };
      };
      const stored = await h.storedEvents(channelId);
      expect((await form(press('wisp_confirm_approve'), 'wrong-secret')).status).toBe(401);
      expect((await form(press('wisp_confirm_approve', 'U8'))).status).toBe(200);
      expect(await h.storedEvents(channelId)).toBe(stored);
      expect(ephemerals('U8').at(-1)?.body).toMatchObject({
        thread_ts: threadTs,
        text: 'Only <@U7>, who asked, can approve or decline this action.',
      });

      expect((await form(press('wisp_confirm_approve'))).status).toBe(200);
      // Acknowledged with the buttons already gone: the message now says who decided what.
      expect(updates()).toHaveLength(1);
      expect(updates()[0]!.body).toMatchObject({ channel: 'C9', ts: postedTs });
      expect(actionsOf(updates()[0]!)).toEqual([]);
      expect(decisionOf(updates()[0]!)).toBe('✅ Approved by <@U7>');
      expect(String(updates()[0]!.body.text)).toContain('please confirm');
      await vi.waitFor(() => expect(cancelled('3004')).toHaveLength(1), WAIT);
      const inThread = () => posts().filter((call) => call.body.thread_ts === threadTs);
      await vi.waitFor(() => expect(followUps(inThread(), textOf)).toHaveLength(1), WAIT);
      // A stale button (a client that still shows it) acts on nothing and says so.
      expect((await form(press('wisp_confirm_decline'))).status).toBe(200);
      expect(await h.storedEvents(channelId)).toBe(stored + 1);
      expect(cancelled('3004')).toHaveLength(1);
      expect(inThread()).toHaveLength(2);
      expect(ephemerals('U7').at(-1)?.body).toMatchObject({
        thread_ts: threadTs,
        text: 'This was already answered (approved): nothing more was done.',
      });
      expect(decisionOf(updates().at(-1)!)).toBe('✅ Approved by <@U7>');
    });
  });

  describe('webhook: requiresAction in the callback, a signed confirm message', () => {
    let channelId: string;
    let secret: string;
    const signed = (body: string, key = secret) => {
      const id = `msg_${randomUUID()}`;
      const timestamp = String(Math.floor(Date.now() / 1000));
      return {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': standardWebhooks.sign(key, id, timestamp, body),
      };
    };
    const post = (payload: Record<string, unknown>, key?: string) => {
      const body = JSON.stringify(payload);
      return h.deliver(channelId, body, signed(body, key));
    };
    const callbacks = () =>
      h.fakes.callsOf('callback').filter((call) => (call.body.user as { id?: string } | undefined)?.id === 'cust-9');
    const textOf = (call: PlatformCall) => String(call.body.text);

    beforeAll(async () => {
      const created = await h.org.api.post<{ id: string; signingSecret: string }>(
        `/api/v1/chatbots/${h.botId}/channels`,
        { type: 'webhook', callbackUrl: h.fakes.callbackUrl },
      );
      expect(created.status).toBe(201);
      channelId = created.body.data.id;
      secret = created.body.data.signingSecret;
    });

    it('carries the pending action and token out, continues on a signed confirm, once', async () => {
      const asked = await post({ text: cancel('4004'), user: { id: 'cust-9' }, conversation: 'ticket-9' });
      expect(asked.status).toBe(200);
      await vi.waitFor(() => expect(callbacks()).toHaveLength(1), WAIT);
      const requiresAction = callbacks()[0]!.body.requiresAction as { token: string; action: string };
      expect(requiresAction).toMatchObject({ action: 'cancel_order', arguments: { orderNumber: '4004' } });
      expect(requiresAction.token.length).toBeGreaterThan(20);
      const stored = await h.storedEvents(channelId);

      const confirm = { type: 'confirm', token: requiresAction.token, approve: true, user: { id: 'cust-9' } };
      expect((await post(confirm, 'whsec_' + Buffer.from('not the secret').toString('base64'))).status).toBe(401);
      // Only the user who asked may answer; an unknown field is refused, naming it.
      expect((await post({ ...confirm, user: { id: 'someone-else' } })).status).toBe(404);
      const unknown = await post({ ...confirm, extra: 1 });
      expect(unknown.status).toBe(422);
      expect(JSON.stringify(unknown.body)).toContain('extra');
      expect(await h.storedEvents(channelId)).toBe(stored);

      const answered = await post({ ...confirm, reply: 'sync' });
      expect(answered.status).toBe(200);
      expect(answered.body.data).toMatchObject({ requiresAction: null });
      expect(String((answered.body.data as { text: string }).text)).toContain('succeeded');
      expect(cancelled('4004')).toHaveLength(1);

      // The token works once.
      expect((await post({ ...confirm, approve: false })).status).toBe(404);
      expect(await h.storedEvents(channelId)).toBe(stored + 1);
      expect(cancelled('4004')).toHaveLength(1);
      expect(followUps(callbacks(), textOf)).toHaveLength(0);
    });

    it('delivers the follow-up to the callback URL when not asked to answer synchronously', async () => {
      await post({ text: cancel('4005'), user: { id: 'cust-9' }, conversation: 'ticket-10' });
      await vi.waitFor(() => expect(callbacks().filter((call) => call.body.requiresAction)).toHaveLength(2), WAIT);
      const token = (callbacks().at(-1)!.body.requiresAction as { token: string }).token;
      const res = await post({ type: 'confirm', token, approve: true, user: { id: 'cust-9' } });
      expect(res.body.data).toEqual({ accepted: 1 });
      await vi.waitFor(() => expect(followUps(callbacks(), textOf)).toHaveLength(1), WAIT);
      expect(callbacks().at(-1)!.body).toMatchObject({ type: 'message.answer', requiresAction: null });
      expect(cancelled('4005')).toHaveLength(1);
    });
  });
});
