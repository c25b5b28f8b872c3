import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelBot, type FakeModelBot } from '../test/test-app.js';
import { connectWidget, send, type WidgetClient } from '../test/widget-client.js';

describe('widget turns with WIDGET_TURN_CONCURRENCY=1', () => {
  let running: FakeModelBot;
  const open: WidgetClient[] = [];

  beforeAll(async () => {
    running = await startFakeModelBot({
      env: { MODEL_TIMEOUT_MS: '60000', WIDGET_TURN_CONCURRENCY: '1' },
      orgName: 'Admission org',
      bot: { name: 'Queue bot', slug: 'queue-bot' },
    });
  });
  afterAll(async () => {
    for (const socket of open) socket.disconnect();
    await running.stop();
  });

  async function connect(): Promise<WidgetClient> {
    const { socket } = await connectWidget(running.t.url, { bot: 'queue-bot' });
    open.push(socket);
    return socket;
  }

  it('is read from the configuration', () => {
    expect(running.t.config.WIDGET_TURN_CONCURRENCY).toBe(1);
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
    const stored = await running.t.app.models.Message.find({
      role: 'user',
      content: { $in: ['Where is my order?', 'And my invoice?'] },
    })
      .sort({ _id: 1 })
      .lean();
    expect(stored.map((m) => m.content)).toEqual(['Where is my order?', 'And my invoice?']);
  });
});
