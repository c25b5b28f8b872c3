import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { readSse } from '../test/sse.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { signUserToken } from '../test/user-token.js';

interface ChatData {
  response: string;
  conversationId: string;
  messageId: string;
  userMessageId: string;
  sources: unknown[];
  confidence: number;
  tokensUsed: { prompt: number; completion: number; total: number };
  model: string | null;
  finishReason: string;
}

describe('chat over REST', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;
  let botId: string;
  let identitySecret: string;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      env: {
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-chat',
        MODEL_RETRY_BACKOFF_MS: '10',
        MODEL_TIMEOUT_MS: '5000',
      },
    });
    org = await t.createOrg();
    const bot = await org.api.post<{ id: string; identitySecret: string }>('/api/v1/chatbots', {
      name: 'Support',
      instructions: 'Be brief.',
    });
    botId = bot.body.data.id;
    identitySecret = bot.body.data.identitySecret;
  });
  beforeEach(() => fake.reset());
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  const chat = (body: Record<string, unknown>) => org.api.post<ChatData>('/api/v1/chat', { chatbotId: botId, ...body });
  const streamChat = (body: Record<string, unknown>, signal?: AbortSignal) =>
    fetch(`${t.url}/api/v1/chat`, {
      method: 'POST',
      headers: org.api.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ chatbotId: botId, stream: true, ...body }),
      signal,
    });

  it('answers JSON with the stored ids, tokens, model and finish reason', async () => {
    const res = await chat({ message: 'Hello there' });
    expect(res.status).toBe(200);
    expect(res.body.error).toBeNull();
    expect(res.body.data).toMatchObject({
      response: 'Echo: Hello there',
      model: 'fake-chat',
      finishReason: 'stop',
      sources: [],
    });
    expect(res.body.data.conversationId).toMatch(/^[0-9a-f]{24}$/);
    expect(res.body.data.messageId).toMatch(/^[0-9a-f]{24}$/);
    expect(res.body.data.tokensUsed.total).toBe(res.body.data.tokensUsed.prompt + res.body.data.tokensUsed.completion);
    expect(res.body.data.tokensUsed.completion).toBeGreaterThan(0);
  });

  it('streams chunks, then one done event with the JSON fields, then [DONE]', async () => {
    const res = await streamChat({ message: 'stream me please' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = await readSse(res);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.filter((e): e is { chunk: string } => typeof e === 'object' && 'chunk' in e);
    expect(chunks.length).toBeGreaterThan(1);
    const done = events.at(-2) as Record<string, unknown>;
    expect(done.done).toBe(true);
    expect(done.response).toBe(chunks.map((c) => c.chunk).join(''));
    expect(done.response).toBe('Echo: stream me please');
    expect(done).toHaveProperty('conversationId');
    expect(done).toHaveProperty('tokensUsed');
  });

  it('continues a conversation by conversationId, sending the history to the model', async () => {
    const first = await chat({ message: 'My name is Ada' });
    const second = await chat({ message: 'What is my name?', conversationId: first.body.data.conversationId });
    expect(second.body.data.conversationId).toBe(first.body.data.conversationId);
    const body = fake.calls.at(-1)?.body as { messages: Array<{ role: string; content: string }> };
    expect(body.messages.map((m) => m.content)).toContain('My name is Ada');
    const detail = await org.api.get<{ messages: unknown[]; messageCount: number }>(
      `/api/v1/conversations/${first.body.data.conversationId}`,
    );
    expect(detail.body.data.messages).toHaveLength(4);
    expect(detail.body.data.messageCount).toBe(4);
  });

  it('keeps one conversation per sessionId', async () => {
    const a = await chat({ message: 'one', sessionId: 'user-42' });
    const b = await chat({ message: 'two', sessionId: 'user-42' });
    const c = await chat({ message: 'three', sessionId: 'user-43' });
    expect(b.body.data.conversationId).toBe(a.body.data.conversationId);
    expect(c.body.data.conversationId).not.toBe(a.body.data.conversationId);
  });

  it('returns the stored answer for a retried clientMessageId without calling the model again', async () => {
    const first = await chat({ message: 'idempotent?', sessionId: 'retry-1', clientMessageId: 'cm-1' });
    const callsAfterFirst = fake.calls.length;
    const again = await chat({ message: 'idempotent?', sessionId: 'retry-1', clientMessageId: 'cm-1' });
    expect(again.status).toBe(200);
    expect(again.body.data.messageId).toBe(first.body.data.messageId);
    expect(again.body.data.response).toBe(first.body.data.response);
    expect(fake.calls.length).toBe(callsAfterFirst);
    const messages = await org.api.get<unknown[]>(`/api/v1/conversations/${first.body.data.conversationId}/messages`);
    expect(messages.body.meta?.total).toBe(2);
  });

  it('stores a clientMessageId sent several times at once once, and every send gets its one answer', async () => {
    const send = () => chat({ message: 'all at once?', sessionId: 'race-1', clientMessageId: 'cm-race' });
    const sends = await Promise.all([send(), send(), send(), send()]);
    expect(sends.map((res) => res.status)).toEqual([200, 200, 200, 200]);
    expect(new Set(sends.map((res) => res.body.data.messageId)).size).toBe(1);
    expect(fake.calls.filter((c) => c.path === '/v1/chat/completions')).toHaveLength(1);
    const messages = await org.api.get<unknown[]>(
      `/api/v1/conversations/${sends[0]!.body.data.conversationId}/messages`,
    );
    expect(messages.body.meta?.total).toBe(2);
  });

  it('when sends of one clientMessageId race and the answer fails, each answers the 503 and it is stored once', async () => {
    fake.failAlways(500);
    const send = () => chat({ message: 'down at once?', sessionId: 'race-down', clientMessageId: 'cm-race-down' });
    const sends = await Promise.all([send(), send(), send(), send()]);
    // A losing send is a retry of a failed answer: it answers again and fails the same way, or, when another
    // losing send took that retry first, gets that retry's failure, naming the answer.
    expect(sends.map((res) => [res.status, res.body.error?.name])).toEqual(sends.map(() => [503, 'UnavailableError']));
    const list = await org.api.get<Array<{ id: string; sessionId: string }>>(
      `/api/v1/conversations?chatbotId=${botId}&perPage=100`,
    );
    const conversation = list.body.data.find((c) => c.sessionId === 'race-down')!;
    const messages = await org.api.get<Array<{ id: string; role: string; status: string }>>(
      `/api/v1/conversations/${conversation.id}/messages`,
    );
    expect(messages.body.data.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'failed'],
    ]);
    const named = sends.map((res) => res.body.error?.details as { assistantMessageId?: unknown } | null);
    for (const details of named.filter((d) => d && 'assistantMessageId' in d)) {
      expect(details).toEqual({ conversationId: conversation.id, assistantMessageId: messages.body.data[1]!.id });
    }
  });

  it('retries a model that fails twice with 500 and counts the retries', async () => {
    fake.failNext(2, 500);
    const res = await chat({ message: 'flaky provider' });
    expect(res.status).toBe(200);
    expect(res.body.data.response).toBe('Echo: flaky provider');
    expect(fake.calls.filter((c) => c.path === '/v1/chat/completions')).toHaveLength(3);
    const usage = await org.api.get<{ modelRetries: number }>('/api/v1/usage');
    expect(usage.body.data.modelRetries).toBeGreaterThanOrEqual(2);
  });

  it('when the model always fails, answers 503, keeps the message and marks the answer failed', async () => {
    fake.failAlways(500);
    const res = await chat({ message: 'nobody home', sessionId: 'down-1' });
    expect(res.status).toBe(503);
    expect(res.body.error?.name).toBe('UnavailableError');
    expect(res.body.error?.message).not.toMatch(/at .*\.ts/);
    const list = await org.api.get<Array<{ id: string; sessionId: string }>>(
      `/api/v1/conversations?chatbotId=${botId}&perPage=100`,
    );
    const conversation = list.body.data.find((c) => c.sessionId === 'down-1')!;
    const messages = await org.api.get<Array<{ role: string; status: string; content: string }>>(
      `/api/v1/conversations/${conversation.id}/messages`,
    );
    expect(messages.body.data.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'failed'],
    ]);
    const usage = await org.api.get<{ modelFailures: number }>('/api/v1/usage');
    expect(usage.body.data.modelFailures).toBeGreaterThanOrEqual(1);
  });

  it('answers again when a failed message is retried with the same clientMessageId, storing it once', async () => {
    fake.failAlways(503);
    const failed = await chat({ message: 'try again later', sessionId: 'retry-failed', clientMessageId: 'cm-fail' });
    expect(failed.status).toBe(503);
    fake.reset();
    const retried = await chat({ message: 'try again later', sessionId: 'retry-failed', clientMessageId: 'cm-fail' });
    expect(retried.status).toBe(200);
    expect(retried.body.data.response).toBe('Echo: try again later');
    const messages = await org.api.get<Array<{ role: string; status: string }>>(
      `/api/v1/conversations/${retried.body.data.conversationId}/messages`,
    );
    expect(messages.body.data.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
  });

  it('when the model dies mid-stream, sends an SSE error event and stores the partial answer as failed', async () => {
    fake.dieMidStream(2);
    const res = await streamChat({ message: 'this answer will break midway', sessionId: 'die-1' });
    const events = await readSse(res);
    const error = events.find((e): e is { error: { name: string } } => typeof e === 'object' && 'error' in e);
    expect(error?.error.name).toBe('UnavailableError');
    const list = await org.api.get<Array<{ id: string; sessionId: string }>>(`/api/v1/conversations?perPage=100`);
    const conversation = list.body.data.find((c) => c.sessionId === 'die-1')!;
    const messages = await org.api.get<Array<{ role: string; status: string; content: string }>>(
      `/api/v1/conversations/${conversation.id}/messages`,
    );
    expect(messages.body.data[1]).toMatchObject({ role: 'assistant', status: 'failed' });
    expect(messages.body.data[1]!.content.length).toBeGreaterThan(0);
    expect((await chat({ message: 'still alive?' })).status).toBe(200);
  });

  it('aborts the model request when the client disconnects mid-stream', async () => {
    fake.setLatency(0, 100);
    const controller = new AbortController();
    const res = await streamChat({ message: 'a long answer #long' }, controller.signal);
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await expect.poll(() => fake.calls.at(-1)?.aborted, { timeout: 5_000 }).toBe(true);
  });

  it("answers 404 for another organization's conversation", async () => {
    const mine = await chat({ message: 'private' });
    const other = await t.createOrg('Other');
    const otherBot = await other.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Theirs' });
    const res = await other.api.post('/api/v1/chat', {
      chatbotId: otherBot.body.data.id,
      message: 'hi',
      conversationId: mine.body.data.conversationId,
    });
    expect(res.status).toBe(404);
    expect((await other.api.get(`/api/v1/conversations/${mine.body.data.conversationId}`)).status).toBe(404);
    expect((await other.api.post('/api/v1/chat', { chatbotId: botId, message: 'hi' })).status).toBe(404);
  });

  it('identifies the end user from a userToken signed with the identity secret, and refuses a forged one', async () => {
    const token = await signUserToken(identitySecret, { sub: 'user-7', name: 'Grace', email: 'Grace@Example.com' });
    const ok = await chat({ message: 'who am I', userToken: token });
    expect(ok.status).toBe(200);
    const detail = await org.api.get<{ user: unknown }>(`/api/v1/conversations/${ok.body.data.conversationId}`);
    expect(detail.body.data.user).toEqual({ sub: 'user-7', name: 'Grace', email: 'grace@example.com' });
    const forged = await signUserToken('not-the-secret-at-all-not-the-secret', { sub: 'user-7' });
    const res = await chat({ message: 'who am I', userToken: forged });
    expect(res.status).toBe(401);
    expect(res.body.error?.name).toBe('UnauthorizedError');
  });

  it('refuses an empty message with 422 and a 32 KB+ message with 413', async () => {
    const empty = await chat({ message: '   ' });
    expect(empty.status).toBe(422);
    expect(empty.body.error?.details).toMatchObject({ fields: [{ path: 'message' }] });
    const huge = await chat({ message: 'x'.repeat(32 * 1024 + 1) });
    expect(huge.status).toBe(413);
    expect(huge.body.error?.name).toBe('PayloadTooLargeError');
  });

  it('chats through /chatbots/:slug/chat as well', async () => {
    const res = await org.api.post<ChatData>('/api/v1/chatbots/support/chat', { message: 'by slug' });
    expect(res.status).toBe(200);
    expect(res.body.data.response).toBe('Echo: by slug');
  });

  it('records thumbs feedback on an answer', async () => {
    const res = await chat({ message: 'rate me' });
    const feedback = await org.api.post<{ feedback: string }>(`/api/v1/messages/${res.body.data.messageId}/feedback`, {
      rating: 'down',
      comment: 'meh',
    });
    expect(feedback.status).toBe(200);
    expect(feedback.body.data.feedback).toBe('down');
  });
});
