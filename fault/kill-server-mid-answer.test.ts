import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../server/test/fake-llm/fake-llm.server.js';
import { waitUntilGone } from '../server/test/server-process.js';
import { longReply, waitFor, WispServer } from './support/wisp-server.js';

const REPLY = longReply(400);

describe('kill -9 of the server while an answer streams', () => {
  let fake: FakeLlm;
  let wisp: WispServer;

  beforeAll(async () => {
    fake = await startFakeLlm();
    wisp = new WispServer({
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'test',
      OPENAI_MODEL: 'fake-chat',
      ANSWER_LEASE_MS: '2000',
    });
  });
  afterAll(async () => {
    await wisp.dispose();
    await fake.stop();
  });

  it('keeps the question once and the streamed text as a failed answer, and a retry answers it fully once', async () => {
    await wisp.start();
    const chatbotId = await wisp.createBot('Crash');
    fake.setReply(REPLY);
    fake.setLatency(0, 40);
    const turn = { chatbotId, message: 'tell me everything', sessionId: 'crash', clientMessageId: 'crash-1' };

    const reader = await wisp.stream(turn);
    await reader.untilChunks(10);
    const conversationId = (await wisp.conversationOf('crash'))!;
    // Killed only once a checkpoint of the streamed text is stored.
    const checkpointed = await waitFor(
      () => wisp.messages(conversationId),
      (messages) => (messages[1]?.content.length ?? 0) > 0,
    );
    expect(checkpointed[1]!.status).toBe('pending');
    const database = wisp.databasePid();
    wisp.process!.child.kill('SIGKILL');
    await wisp.process!.exited;
    await waitUntilGone(database, 10_000);
    const received = (await reader.rest()).length;
    expect(received).toBeGreaterThan(0);

    await wisp.start();
    const stranded = await waitFor(
      () => wisp.messages(conversationId),
      (messages) => messages[1]?.status !== 'pending',
    );
    expect(stranded.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'failed'],
    ]);
    expect(stranded[0]).toMatchObject({ content: 'tell me everything', clientMessageId: 'crash-1' });
    const partial = stranded[1]!.content;
    expect(partial.length).toBeGreaterThanOrEqual(checkpointed[1]!.content.length);
    expect(partial.length).toBeLessThan(REPLY.length);
    expect(REPLY.startsWith(partial)).toBe(true);

    fake.setLatency(0, 0);
    const callsBefore = fake.calls.filter((c) => c.path === '/v1/chat/completions').length;
    const retry = await wisp.api.post<{ response: string; conversationId: string; messageId: string }>(
      '/api/v1/chat',
      turn,
    );
    expect(retry.status).toBe(200);
    expect(retry.body.data.conversationId).toBe(conversationId);
    expect(retry.body.data.messageId).toBe(stranded[1]!.id);
    expect(retry.body.data.response.startsWith(REPLY)).toBe(true);
    expect(fake.calls.filter((c) => c.path === '/v1/chat/completions').length).toBe(callsBefore + 1);

    const after = await wisp.messages(conversationId);
    expect(after.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
    expect(after[1]!.content).toBe(retry.body.data.response);

    // A second retry replays the stored answer without asking the model again.
    const replay = await wisp.api.post<{ response: string }>('/api/v1/chat', turn);
    expect(replay.body.data.response).toBe(retry.body.data.response);
    expect(fake.calls.filter((c) => c.path === '/v1/chat/completions').length).toBe(callsBefore + 1);
    expect(await wisp.messages(conversationId)).toHaveLength(2);
    // Two cold starts of the server and its database take most of this on a busy machine.
  }, 240_000);
});
