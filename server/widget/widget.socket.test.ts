import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageDto } from '../../shared/schemas/chat.js';
import type { WidgetClientEvents, WidgetHandshake, WidgetServerEvents } from '../../shared/socket-events.js';
import { createLeadBot } from '../leads/leads.fixtures.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

type Client = Socket<WidgetServerEvents, WidgetClientEvents>;
const SITE = 'https://shop.example';

describe('widget socket', () => {
  let t: TestApp;
  let org: TestOrg;
  const open: Client[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('Widget org');
    await org.api.post('/api/v1/chatbots', { name: 'Open bot', slug: 'open-bot' });
    await org.api.post('/api/v1/chatbots', { name: 'Site bot', slug: 'site-bot', allowedOrigins: [SITE] });
  });
  afterAll(async () => {
    for (const socket of open) socket.disconnect();
    await t.stop();
  });

  /** Connects like the widget; resolves with the socket and its session, or rejects with the refusal name. */
  function connect(auth: Partial<WidgetHandshake> & { bot: string }, origin = SITE) {
    const socket: Client = io(`${t.url}/widget`, {
      transports: ['websocket'],
      extraHeaders: { Origin: origin },
      auth: { visitorId: `v_${randomUUID()}`, ...auth },
      reconnection: false,
    });
    open.push(socket);
    return new Promise<{ socket: Client; session: Parameters<WidgetServerEvents['session']>[0] }>((resolve, reject) => {
      socket.once('session', (session) => resolve({ socket, session }));
      socket.once('connect_error', (error: Error & { data?: { name?: string } }) =>
        reject(new Error(error.data?.name ?? error.message)),
      );
    });
  }

  /** Sends a message and collects what the visitor's room receives until the answer is done. */
  async function ask(socket: Client, text: string, clientMessageId = `c_${randomUUID()}`) {
    const chunks: Array<{ seq: number; text: string }> = [];
    socket.on('chat:chunk', (chunk) => chunks.push(chunk));
    const done = new Promise<MessageDto>((resolve) => socket.once('chat:done', ({ message }) => resolve(message)));
    const reply = await socket.emitWithAck('chat:send', { text, clientMessageId, conversationId: undefined });
    if (reply.error) return { reply, chunks, message: null };
    const message = await done;
    socket.off('chat:chunk');
    return { reply, chunks, message };
  }

  it('refuses a handshake from an origin the bot does not allow, and accepts any origin when the list is empty', async () => {
    await expect(connect({ bot: 'site-bot' }, 'https://evil.example')).rejects.toThrow('ForbiddenError');
    await expect(connect({ bot: 'no-such-bot' })).rejects.toThrow('NotFoundError');
    await expect(connect({ bot: 'open-bot' }, 'https://anywhere.example')).resolves.toBeTruthy();
  });

  it('takes a lead over the socket only while the bot still allows the page, as the HTTP lead route does', async () => {
    const bot = await createLeadBot(org, { bot: { allowedOrigins: [SITE] } });
    const { socket } = await connect({ bot: bot.id });
    const lead = { fields: { name: 'Ada Lovelace', email: 'ada@example.com' }, consent: true };
    expect((await socket.emitWithAck('lead:submit', lead)).data).toMatchObject({ leadId: expect.any(String) });
    await org.api.patch(`/api/v1/chatbots/${bot.id}`, { allowedOrigins: ['https://other.example'] });
    expect((await socket.emitWithAck('lead:submit', lead)).error).toMatchObject({ name: 'ForbiddenError' });
  });

  it('acknowledges a message with stored ids, streams numbered chunks, and ends with the stored answer', async () => {
    const { socket } = await connect({ bot: 'site-bot' });
    const { reply, chunks, message } = await ask(socket, 'Where is my order?');
    expect(reply.data).toMatchObject({
      duplicate: false,
      messageId: expect.any(String),
      assistantMessageId: expect.any(String),
    });
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i));
    expect(message).toMatchObject({ id: reply.data?.assistantMessageId, role: 'assistant', status: 'complete' });
    expect(chunks.map((c) => c.text).join('')).toBe(message?.content);
  });

  it('streams to every tab of the visitor, and history after a message returns only what follows it', async () => {
    const first = await connect({ bot: 'site-bot' });
    const { socket: tab2 } = await connect({
      bot: 'site-bot',
      visitorId: first.session.visitorId,
      visitorToken: first.session.visitorToken,
    });
    const seenByTab2 = new Promise<MessageDto>((resolve) => tab2.once('chat:done', ({ message }) => resolve(message)));
    const { reply, message } = await ask(first.socket, 'Hello from tab one');
    expect((await seenByTab2).id).toBe(message?.id);

    const history = await tab2.emitWithAck('chat:history', { conversationId: reply.data?.conversationId, after: null });
    expect(history.data?.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    const after = await tab2.emitWithAck('chat:history', {
      conversationId: reply.data?.conversationId,
      after: reply.data?.messageId,
    });
    expect(after.data?.messages.map((m) => m.id)).toEqual([message?.id]);
  });

  it('answers a repeated clientMessageId with the stored answer instead of storing it twice', async () => {
    const { socket } = await connect({ bot: 'site-bot' });
    const once = await ask(socket, 'Only once please', 'same-id-1');
    const twice = await ask(socket, 'Only once please', 'same-id-1');
    expect(twice.reply.data).toMatchObject({ duplicate: true, messageId: once.reply.data?.messageId });
    expect(twice.message?.id).toBe(once.message?.id);
    const history = await socket.emitWithAck('chat:history', { conversationId: once.reply.data?.conversationId });
    expect(history.data?.messages).toHaveLength(2);
  });

  it("refuses a visitor's first message at a spent quota with QuotaExceededError, and stores no conversation", async () => {
    const spent = await t.createOrg('Spent quota org');
    await t.app.models.Organization.updateOne({ _id: spent.id }, { monthlyMessageQuota: 1 });
    await t.app.services.usage.increment(spent.id, { messages: 1 });
    const bot = await spent.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Spent bot', slug: 'spent-bot' });
    const { socket } = await connect({ bot: 'spent-bot' });
    const { reply } = await ask(socket, 'Anyone there?');
    expect(reply.error).toMatchObject({ name: 'QuotaExceededError' });
    expect(await t.app.models.Conversation.countDocuments({ chatbotId: bot.body.data.id })).toBe(0);
    expect(await t.app.models.Message.countDocuments({ chatbotId: bot.body.data.id })).toBe(0);
  });

  it("never shows one visitor's conversation to another, and issues a new id for a used one without its token", async () => {
    const owner = await connect({ bot: 'site-bot' });
    const { reply } = await ask(owner.socket, 'Private question');
    const intruder = await connect({ bot: 'site-bot', visitorId: owner.session.visitorId });
    expect(intruder.session.visitorId).not.toBe(owner.session.visitorId);
    expect(intruder.session.conversationId).toBeNull();
    const peek = await intruder.socket.emitWithAck('chat:history', { conversationId: reply.data?.conversationId });
    expect(peek.error?.name).toBe('NotFoundError');
  });

  it('keeps a new visitor id, and gives a returning visitor with its token the same id and its latest conversation', async () => {
    const visitorId = `v_${randomUUID()}`;
    const first = await connect({ bot: 'site-bot', visitorId });
    expect(first.session).toMatchObject({ visitorId, conversationId: null });
    const { reply } = await ask(first.socket, 'Remember me');
    const back = await connect({ bot: 'site-bot', visitorId, visitorToken: first.session.visitorToken });
    expect(back.session).toMatchObject({ visitorId, conversationId: reply.data?.conversationId });
  });

  it('pushes settings changes to the open widgets of the bot', async () => {
    const { socket } = await connect({ bot: 'open-bot' }, 'https://anywhere.example');
    const pushed = new Promise<{ version: number }>((resolve) => socket.once('settings:updated', resolve));
    await org.api.patch('/api/v1/chatbots/open-bot/widget-settings', { welcomeMessage: 'Hello again' });
    expect((await pushed).version).toBeGreaterThan(1);
  });
});
