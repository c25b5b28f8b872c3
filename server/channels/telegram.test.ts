import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startChannelHarness, type ChannelHarness } from './test/channel-harness.js';

interface ChannelData {
  id: string;
  status: string;
  statusReason: string | null;
  inboundUrl: string;
  lastEventAt: string | null;
}

const TOKEN = '111111:AAFakeTokenForTests_abc-def';
let updateId = 1000;
const update = (text: string, chatId = 42) =>
  JSON.stringify({
    update_id: ++updateId,
    message: {
      message_id: updateId,
      date: 1_700_000_000,
      text,
      from: { id: chatId, is_bot: false, first_name: 'Ada', username: 'ada' },
      chat: { id: chatId, type: 'private' },
    },
  });

describe('telegram channel', () => {
  let h: ChannelHarness;
  let channel: ChannelData;
  let secret: string;

  const send = (body: string, token = secret) =>
    h.deliver(channel.id, body, { 'x-telegram-bot-api-secret-token': token });
  const repliesTo = (text: string) =>
    h.fakes.callsOf('sendMessage').filter((call) => call.body.text === `Echo: ${text}`);

  beforeAll(async () => {
    h = await startChannelHarness();
    h.fakes.acceptToken(TOKEN);
    const created = await h.org.api.post<ChannelData>(`/api/v1/chatbots/${h.botId}/channels`, {
      type: 'telegram',
      credentials: { botToken: TOKEN },
    });
    expect(created.status).toBe(201);
    channel = created.body.data;
    const registered = h.fakes.callsOf('setWebhook')[0];
    secret = String(registered?.body.secret_token);
  });
  afterAll(() => h.stop());

  it('registers its inbound URL with setWebhook and a secret token, and never returns the bot token', async () => {
    expect(channel.status).toBe('connected');
    expect(channel.inboundUrl).toBe(`${h.t.url}/api/v1/channels/${channel.id}/events`);
    const registered = h.fakes.callsOf('setWebhook')[0]!;
    expect(registered.body).toMatchObject({ url: channel.inboundUrl, allowed_updates: ['message', 'callback_query'] });
    expect(secret).toMatch(/^[A-Za-z0-9_-]{32,}$/);
    const fetched = await h.org.api.get(`/api/v1/channels/${channel.id}`);
    expect(JSON.stringify(fetched.body)).not.toContain(TOKEN);
    expect(JSON.stringify(fetched.body)).not.toContain(secret);
    const stored = await h.t.app.models.Channel.findById(channel.id).lean();
    expect(JSON.stringify(stored)).not.toContain(TOKEN);
  });

  it('answers a verified update with a typing action and sendMessage, as an ordinary conversation', async () => {
    const res = await send(update('Where is my order?'));
    expect(res.status).toBe(200);
    await vi.waitFor(() => expect(repliesTo('Where is my order?')).toHaveLength(1), { timeout: 10_000 });
    const reply = repliesTo('Where is my order?')[0]!;
    expect(reply.body.chat_id).toBe('42');
    expect(h.fakes.callsOf('sendChatAction').some((call) => call.body.action === 'typing')).toBe(true);

    const conversations = await h.org.api.get<Array<{ id: string; channel: string; visitorId: string }>>(
      `/api/v1/conversations?chatbotId=${h.botId}`,
    );
    const conversation = conversations.body.data.find((c) => c.channel === 'telegram');
    expect(conversation?.visitorId).toBe('telegram:42');
    const messages = await h.org.api.get<Array<{ role: string; content: string }>>(
      `/api/v1/conversations/${conversation?.id}/messages`,
    );
    expect(messages.body.data.map((m) => m.content)).toEqual(['Where is my order?', 'Echo: Where is my order?']);
    expect((await h.org.api.get<ChannelData>(`/api/v1/channels/${channel.id}`)).body.data.lastEventAt).not.toBeNull();
  });

  it('puts thumbs up/down buttons under an answer and takes a press as the answer’s feedback', async () => {
    await send(update('Rate this answer'));
    await vi.waitFor(() => expect(repliesTo('Rate this answer')).toHaveLength(1), { timeout: 10_000 });
    const reply = repliesTo('Rate this answer')[0]!;
    const buttons = (reply.body.reply_markup as { inline_keyboard: Array<Array<{ callback_data: string }>> })
      .inline_keyboard[0]!;
    expect(buttons.map((button) => button.callback_data)).toEqual(['wisp:up', 'wisp:down']);
    const sent = reply.result as { message_id: number; chat: { id: number } };
    // The job writes the sent message's id just after Telegram took the reply.
    await vi.waitFor(
      async () => {
        const job = await h.t.app.models.ChannelEvent.findOne({ channelId: channel.id, text: 'Rate this answer' });
        expect(job?.deliveredRef).toBe(`42:${sent.message_id}`);
      },
      { timeout: 10_000 },
    );
    const press = (data: string, messageId = sent.message_id) =>
      JSON.stringify({
        update_id: ++updateId,
        callback_query: {
          id: `cbq-${updateId}`,
          from: { id: 42, is_bot: false, first_name: 'Ada' },
          chat_instance: '-100',
          data,
          message: { message_id: messageId, date: 1_700_000_000, chat: { id: 42, type: 'private' }, text: 'x' },
        },
      });
    const answer = async () => {
      const job = await h.t.app.models.ChannelEvent.findOne({ channelId: channel.id, text: 'Rate this answer' });
      return h.t.app.models.Message.findById(job?.answer?.messageId).lean();
    };

    const up = press(buttons[0]!.callback_data);
    expect((await send(up)).status).toBe(200);
    expect((await answer())?.feedback?.rating).toBe('up');
    const thanked = h.fakes.callsOf('answerCallbackQuery').at(-1);
    expect(thanked?.body).toEqual({
      callback_query_id: JSON.parse(up).callback_query.id,
      text: 'Thanks for your feedback',
    });

    // A second press changes the rating, as in the widget.
    expect((await send(press(buttons[1]!.callback_data))).status).toBe(200);
    expect((await answer())?.feedback?.rating).toBe('down');

    // A forged press is refused and changes nothing; a press under a message that is not an answer rates nothing.
    expect((await send(press('wisp:up'), 'not-the-secret')).status).toBe(401);
    expect((await send(press('wisp:up', 1))).status).toBe(200);
    expect((await answer())?.feedback?.rating).toBe('down');
  });

  it('answers an update Telegram delivers twice once', async () => {
    const body = update('Twice delivered');
    const first = await send(body);
    const again = await send(body);
    expect([first.status, again.status]).toEqual([200, 200]);
    await vi.waitFor(() => expect(repliesTo('Twice delivered')).toHaveLength(1), { timeout: 10_000 });
    // A later message is answered after it, so the repeated delivery had every chance to be answered too.
    await send(update('After the repeat'));
    await vi.waitFor(() => expect(repliesTo('After the repeat')).toHaveLength(1), { timeout: 10_000 });
    expect(repliesTo('Twice delivered')).toHaveLength(1);
    expect(await h.t.app.models.ChannelEvent.countDocuments({ channelId: channel.id, text: 'Twice delivered' })).toBe(
      1,
    );
  });

  it('refuses an update without the right secret token with 401 and stores nothing', async () => {
    const before = await h.storedEvents(channel.id);
    const messagesBefore = await h.t.app.models.Message.countDocuments();
    const res = await send(update('forged'), 'not-the-secret');
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toContain('X-Telegram-Bot-Api-Secret-Token');
    const missing = await h.deliver(channel.id, update('forged'), {});
    expect(missing.status).toBe(401);
    expect(await h.storedEvents(channel.id)).toBe(before);
    expect(await h.t.app.models.Message.countDocuments()).toBe(messagesBefore);
  });

  it('retries a reply Telegram cannot take, without asking the model again', async () => {
    h.fakes.failNext('telegram', 2, 502);
    const modelCalls = h.llm.calls.length;
    await send(update('Platform hiccup'));
    await vi.waitFor(() => expect(repliesTo('Platform hiccup')).toHaveLength(1), { timeout: 10_000 });
    // The job is written done just after the platform took the reply.
    await vi.waitFor(
      async () => {
        const job = await h.t.app.models.ChannelEvent.findOne({
          channelId: channel.id,
          text: 'Platform hiccup',
        }).lean();
        expect(job).toMatchObject({ status: 'done', attempts: 3 });
        expect(job?.deliveredAt).not.toBeNull();
      },
      { timeout: 10_000 },
    );
    expect(h.llm.calls.filter((call) => call.path === '/v1/chat/completions').length - modelCalls).toBe(1);
  });

  it('turns disconnected when the token is revoked, holds the reply, and sends it after reconnecting', async () => {
    h.fakes.revokeToken(TOKEN);
    await send(update('Token gone'));
    await vi.waitFor(
      async () => {
        const got = await h.org.api.get<ChannelData>(`/api/v1/channels/${channel.id}`);
        expect(got.body.data.status).toBe('disconnected');
        expect(got.body.data.statusReason).toContain('rejected the credentials');
      },
      { timeout: 10_000 },
    );
    await vi.waitFor(() => expect(h.disconnections).toHaveLength(1), { timeout: 10_000 });
    expect(h.disconnections[0]).toMatchObject({ channelId: channel.id, chatbotId: h.botId, type: 'telegram' });

    const refused = await h.org.api.post(`/api/v1/channels/${channel.id}/reconnect`);
    expect(refused.status).toBe(422);
    expect(refused.body.error?.message).toContain('check the channel');

    h.fakes.acceptToken(TOKEN);
    const reconnected = await h.org.api.post<ChannelData>(`/api/v1/channels/${channel.id}/reconnect`);
    expect(reconnected.status).toBe(200);
    expect(reconnected.body.data).toMatchObject({ status: 'connected', statusReason: null });
    await vi.waitFor(() => expect(repliesTo('Token gone')).toHaveLength(1), { timeout: 10_000 });
    expect(h.disconnections).toHaveLength(1);
  });

  it('is refused at creation when Telegram rejects the token, leaving nothing stored', async () => {
    const before = await h.t.app.models.Channel.countDocuments();
    const res = await h.org.api.post(`/api/v1/chatbots/${h.botId}/channels`, {
      type: 'telegram',
      credentials: { botToken: '999:revoked-or-unknown' },
    });
    expect(res.status).toBe(422);
    expect(res.body.error?.message).toContain('Telegram rejected the credentials');
    expect(await h.t.app.models.Channel.countDocuments()).toBe(before);
  });
});
