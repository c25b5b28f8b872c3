import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp } from '../test/test-app.js';
import { connectWidget, type WidgetClient } from '../test/widget-client.js';

describe('widget socket shutdown', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let socket: WidgetClient | null = null;

  beforeAll(async () => {
    fake = await startFakeLlm({ tokenDelayMs: 100 });
    t = await startTestApp({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'fake-chat', MODEL_TIMEOUT_MS: '5000' },
    });
  });
  afterAll(async () => {
    socket?.disconnect();
    // The app was stopped by the test; only its database is left to drop.
    await t.connection.dropDatabase().catch(() => undefined);
    await t.connection.close();
    await fake.stop();
  });

  it('when the grace period is over mid-answer, the answer is already stored as failed once stop() resolves', async () => {
    const org = await t.createOrg('Shutdown org');
    await org.api.post('/api/v1/chatbots', { name: 'Slow bot', slug: 'slow-bot' });
    const { socket: client } = await connectWidget(t.url, { bot: 'slow-bot' });
    socket = client;
    const firstChunk = new Promise<void>((resolve) => client.once('chat:chunk', () => resolve()));
    const reply = await client.emitWithAck('chat:send', {
      text: 'a long answer #long',
      clientMessageId: `c_${randomUUID()}`,
      conversationId: null,
    });
    await firstChunk;

    await t.app.stop(0);

    const answer = await t.app.models.Message.findOne({ _id: reply.data?.assistantMessageId });
    expect(answer?.status).toBe('failed');
  });
});
