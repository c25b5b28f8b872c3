import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { INTERRUPTED_ANSWER } from './answer-lease.js';
import type { FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { SseReader } from '../test/sse.js';
import { startFakeModelBot, type FakeModelBot, type TestApp, type TestOrg } from '../test/test-app.js';

const REPLY = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');

describe('answers in progress and answers left behind', () => {
  let running: FakeModelBot;
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;
  let botId: string;

  beforeAll(async () => {
    running = await startFakeModelBot({
      env: { MODEL_TIMEOUT_MS: '10000', ANSWER_LEASE_MS: '10000' },
      bot: { name: 'Leases' },
    });
    ({ fake, t, org, botId } = running);
  });
  beforeEach(() => fake.reset());
  afterAll(() => running.stop());

  const chat = (body: Record<string, unknown>) =>
    org.api.post<{ response: string; messageId: string; conversationId: string }>('/api/v1/chat', {
      chatbotId: botId,
      ...body,
    });
  const stream = async (body: Record<string, unknown>) =>
    new SseReader(
      await fetch(`${t.url}/api/v1/chat`, {
        method: 'POST',
        headers: org.api.headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ chatbotId: botId, stream: true, ...body }),
      }),
    );
  const answerOf = async (sessionId: string) => {
    const conversation = await t.app.models.Conversation.findOne({ sessionKey: `session:${sessionId}` });
    if (!conversation) return null;
    return t.app.models.Message.findOne({ conversationId: conversation._id, role: 'assistant' });
  };
  const messagesOf = async (conversationId: string) =>
    (
      await org.api.get<Array<{ role: string; status: string; content: string }>>(
        `/api/v1/conversations/${conversationId}/messages`,
      )
    ).body.data.map((m) => [m.role, m.status]);

  it('stores the text streamed so far while the answer streams, under this server’s lease', async () => {
    fake.setReply(REPLY);
    fake.setLatency(0, 60);
    const reader = await stream({ message: 'tell me a lot', sessionId: 'checkpoint' });
    await reader.untilChunks(5);
    await expect.poll(async () => (await answerOf('checkpoint'))?.content ?? '', { timeout: 10_000 }).not.toBe('');
    const pending = (await answerOf('checkpoint'))!;
    expect(pending.status).toBe('pending');
    expect(pending.leaseOwner).toBe(t.app.services.answerLeases.owner);
    expect(REPLY.startsWith(pending.content)).toBe(true);
    await reader.until((events) => events.includes('[DONE]'));
    const done = (await answerOf('checkpoint'))!;
    expect(done.status).toBe('complete');
    expect(done.content.startsWith(REPLY)).toBe(true);
  });

  it('refuses a retry of an answer still streaming at once with 409 and a short Retry-After, then replays it', async () => {
    fake.setReply(REPLY);
    fake.setLatency(0, 80);
    const body = { message: 'are you there?', sessionId: 'live-retry', clientMessageId: 'live-1' };
    const reader = await stream(body);
    await reader.untilChunks(2);
    const retry = await chat(body);
    expect(retry.status).toBe(409);
    expect(retry.body.error).toMatchObject({
      name: 'ConflictError',
      message: expect.stringMatching(/still being answered/),
    });
    expect(Number(retry.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(retry.headers.get('retry-after'))).toBeLessThanOrEqual(5);
    const events = await reader.rest();
    const done = events.find((e) => typeof e === 'object' && e.done === true) as { response: string };
    const again = await chat(body);
    expect(again.status).toBe(200);
    expect(again.body.data.response).toBe(done.response);
    expect(fake.calls.filter((c) => c.path === '/v1/chat/completions')).toHaveLength(1);
    expect(await messagesOf(again.body.data.conversationId)).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
  });

  it('answers a retry at once when the answer was left pending by a server that stopped heartbeating', async () => {
    const body = { message: 'left behind', sessionId: 'stale-retry', clientMessageId: 'stale-1' };
    const first = await chat(body);
    const abandoned = { status: 'pending', content: 'Echo:', leaseOwner: 'gone', leaseId: 'gone-turn' };
    await t.app.models.Message.updateOne(
      { _id: first.body.data.messageId },
      { $set: { ...abandoned, heartbeatAt: new Date(Date.now() - 60_000) } },
    );
    const retry = await chat(body);
    expect(retry.status).toBe(200);
    expect(retry.body.data.response).toBe('Echo: left behind');
    expect(retry.body.data.messageId).toBe(first.body.data.messageId);
    expect(await messagesOf(first.body.data.conversationId)).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
  });

  it('sweeps answers left pending by a stopped server to failed, keeping their text, and a retry answers again', async () => {
    const body = { message: 'swept away', sessionId: 'swept', clientMessageId: 'swept-1' };
    const first = await chat(body);
    const stale = { status: 'pending', content: 'Echo: sw', leaseOwner: 'gone', leaseId: 'gone-turn' };
    await t.app.models.Message.updateOne(
      { _id: first.body.data.messageId },
      { $set: { ...stale, heartbeatAt: new Date(Date.now() - 60_000) } },
    );
    expect(await t.app.services.answerLeases.sweep()).toBeGreaterThanOrEqual(1);
    const failed = await t.app.models.Message.findById(first.body.data.messageId);
    expect(failed).toMatchObject({ status: 'failed', content: 'Echo: sw', error: INTERRUPTED_ANSWER });

    const retry = await chat(body);
    expect(retry.status).toBe(200);
    expect(retry.body.data.response).toBe('Echo: swept away');
    expect(await messagesOf(first.body.data.conversationId)).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
  });

  it('leaves a live answer alone when sweeping', async () => {
    fake.setReply(REPLY);
    fake.setLatency(0, 60);
    const reader = await stream({ message: 'keep going', sessionId: 'live-sweep' });
    await reader.untilChunks(3);
    await t.app.services.answerLeases.sweep();
    expect((await answerOf('live-sweep'))?.status).toBe('pending');
    const events = await reader.rest();
    expect(events.at(-1)).toBe('[DONE]');
    expect((await answerOf('live-sweep'))?.status).toBe('complete');
  });
});
