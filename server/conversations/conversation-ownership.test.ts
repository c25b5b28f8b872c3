import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageDto } from '../../shared/schemas/chat.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { connectWidget, type WidgetClient } from '../test/widget-client.js';

describe('conversation ownership across doors and visitors', () => {
  let t: TestApp;
  let org: TestOrg;
  let botId: string;
  const sockets: WidgetClient[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg();
    botId = (await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Owned' })).body.data.id;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await t.stop();
  });

  /** A fresh widget visitor, connected like the widget. */
  async function visitor(): Promise<WidgetClient> {
    const { socket } = await connectWidget(t.url, { bot: botId });
    sockets.push(socket);
    return socket;
  }

  /** Sends through the socket; resolves with the ack, and waits for the answer when accepted. */
  async function send(socket: WidgetClient, text: string, conversationId: string | null) {
    const done = new Promise<MessageDto>((resolve) => socket.once('chat:done', ({ message }) => resolve(message)));
    const reply = await socket.emitWithAck('chat:send', { text, clientMessageId: `c_${randomUUID()}`, conversationId });
    if (!reply.error) await done;
    return reply;
  }

  const apiChat = (body: Record<string, unknown>) =>
    org.api.post<{ conversationId: string }>('/api/v1/chat', { chatbotId: botId, ...body });

  const messagesOf = (conversationId: string) =>
    t.app.models.Message.find({ conversationId: new Types.ObjectId(conversationId) }).lean();

  it('refuses a widget visitor posting into a conversation started over the API with not-found, writing nothing', async () => {
    const started = await apiChat({ message: 'Private API question' });
    expect(started.status).toBe(200);
    const apiConversation = started.body.data.conversationId;
    const before = await messagesOf(apiConversation);

    const reply = await send(await visitor(), 'Let me in', apiConversation);
    expect(reply.error).toMatchObject({ name: 'NotFoundError' });
    expect(reply.error?.message).toContain(apiConversation);
    expect(await messagesOf(apiConversation)).toHaveLength(before.length);
    const history = await (await visitor()).emitWithAck('chat:history', { conversationId: apiConversation });
    expect(history.error).toMatchObject({ name: 'NotFoundError' });
  });

  it("refuses a widget visitor posting into another visitor's conversation with not-found", async () => {
    const owner = await visitor();
    const accepted = await send(owner, 'My own question', null);
    const conversationId = accepted.data!.conversationId;

    const reply = await send(await visitor(), 'Hijack', conversationId);
    expect(reply.error).toMatchObject({ name: 'NotFoundError' });
    expect((await messagesOf(conversationId)).map((m) => m.content)).not.toContain('Hijack');
    expect((await send(owner, 'Still mine', conversationId)).data?.conversationId).toBe(conversationId);
  });

  it('refuses the REST chat continuing a widget conversation with 404, but lets it read it', async () => {
    const accepted = await send(await visitor(), 'Widget question', null);
    const widgetConversation = accepted.data!.conversationId;
    const before = await messagesOf(widgetConversation);

    for (const stream of [false, true]) {
      const res = await apiChat({ message: 'Injected over REST', conversationId: widgetConversation, stream });
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ name: 'NotFoundError' });
    }
    expect(await messagesOf(widgetConversation)).toHaveLength(before.length);
    const read = await org.api.get<{ channel: string; messages: unknown[] }>(
      `/api/v1/conversations/${widgetConversation}`,
    );
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({ channel: 'widget', messages: expect.any(Array) });
  });

  it('lets the REST chat continue its own conversations, by id and by sessionId', async () => {
    const first = await apiChat({ message: 'One', sessionId: 'user-42' });
    const conversationId = first.body.data.conversationId;
    expect((await apiChat({ message: 'Two', conversationId })).body.data.conversationId).toBe(conversationId);
    expect((await apiChat({ message: 'Three', sessionId: 'user-42' })).body.data.conversationId).toBe(conversationId);
    expect(await messagesOf(conversationId)).toHaveLength(6);
  });
});
