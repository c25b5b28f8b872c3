import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WidgetClientEvents, WidgetServerEvents } from '../../shared/socket-events.js';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp } from '../test/test-app.js';

type Client = Socket<WidgetServerEvents, WidgetClientEvents>;

describe('widget turns with WIDGET_TURN_CONCURRENCY=1', () => {
  let fake: FakeLlm;
  let t: TestApp;
  const open: Client[] = [];

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      env: {
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-chat',
        MODEL_TIMEOUT_MS: '60000',
        WIDGET_TURN_CONCURRENCY: '1',
      },
    });
    const org = await t.createOrg('Admission org');
    await org.api.post('/api/v1/chatbots', { name: 'Queue bot', slug: 'queue-bot' });
  });
  afterAll(async () => {
    for (const socket of open) socket.disconnect();
    await t.stop();
    await fake.stop();
  });

  async function connect(): Promise<Client> {
    const socket: Client = io(`${t.url}/widget`, {
      transports: ['websocket'],
      auth: { bot: 'queue-bot', visitorId: `v_${randomUUID()}` },
      reconnection: false,
    });
    open.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('session', () => resolve());
      socket.once('connect_error', reject);
    });
    return socket;
  }

  const send = (socket: Client, text: string) =>
    socket.emitWithAck('chat:send', { text, clientMessageId: `c_${randomUUID()}`, conversationId: null });

  it('is read from the configuration', () => {
    expect(t.config.WIDGET_TURN_CONCURRENCY).toBe(1);
  });

  it('gives the one place back once a turn is stored: a stalled answer does not hold up the next visitor', async () => {
    const stalled = await connect();
    const firstChunk = new Promise<void>((resolve) => stalled.once('chat:chunk', () => resolve()));
    // The model goes silent after two chunks and keeps the connection open: this answer never ends here.
    const stalledReply = await send(stalled, 'Tell me everything #stall');
    expect(stalledReply.data).toMatchObject({ duplicate: false, messageId: expect.any(String) });
    await firstChunk;

    const next = await connect();
    const done = new Promise<string>((resolve) => next.once('chat:done', ({ message }) => resolve(message.status)));
    const replies = await Promise.all([send(next, 'Where is my order?'), send(next, 'And my invoice?')]);
    for (const reply of replies) expect(reply.data).toMatchObject({ duplicate: false, messageId: expect.any(String) });
    expect(await done).toBe('complete');
    // Both were stored, in the order they were sent, before their answers.
    const stored = await t.app.models.Message.find({
      role: 'user',
      content: { $in: ['Where is my order?', 'And my invoice?'] },
    })
      .sort({ _id: 1 })
      .lean();
    expect(stored.map((m) => m.content)).toEqual(['Where is my order?', 'And my invoice?']);
  });
});
