import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModelBot, type FakeModelBot } from '../test/test-app.js';
import type { MessageDto } from '../../shared/schemas/chat.js';
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

  it('streams every answer of a burst whole and in order, also those whose rest waited for the turns being stored', async () => {
    const visitors = await Promise.all(Array.from({ length: 8 }, () => connect()));
    const answers = await Promise.all(
      visitors.map(async (socket, i) => {
        const chunks: Array<{ seq: number; text: string }> = [];
        socket.on('chat:chunk', ({ seq, text }) => chunks.push({ seq, text }));
        const done = new Promise<MessageDto>((resolve) => socket.once('chat:done', ({ message }) => resolve(message)));
        const reply = await send(socket, `Question number ${i} about my order`);
        expect(reply.data).toMatchObject({ duplicate: false });
        return { chunks, message: await done };
      }),
    );
    for (const { chunks, message } of answers) {
      expect(message.status).toBe('complete');
      expect(chunks.map((chunk) => chunk.seq)).toEqual(chunks.map((_, i) => i));
      expect(chunks.map((chunk) => chunk.text).join('')).toBe(message.content);
    }
    const stored = await running.t.app.models.Message.countDocuments({ role: 'assistant', status: 'complete' });
    expect(stored).toBeGreaterThanOrEqual(answers.length);
  });
});
