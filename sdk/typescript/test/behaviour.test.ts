import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../../server/test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp, type TestOrg } from '../../../server/test/test-app.js';
import { Wisp, WispApiError, WispTimeoutError, type ClientOptions } from '../src/index.js';

interface Attempt {
  method: string;
  url: string;
  status: number;
  idempotencyKey: string | null;
}

/** A client whose `fetch` (the real one) also notes every attempt it makes. */
function recordingClient(options: ClientOptions): { wisp: Wisp; attempts: Attempt[] } {
  const attempts: Attempt[] = [];
  const fetchAndNote: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const headers = new Headers(init?.headers);
    attempts.push({
      method: init?.method ?? 'GET',
      url: String(input),
      status: res.status,
      idempotencyKey: headers.get('idempotency-key'),
    });
    return res;
  };
  return { wisp: new Wisp({ ...options, fetch: fetchAndNote }), attempts };
}

describe('the SDK: retries, idempotency, timeouts, cancellation and stream failures', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;
  let botSlug: string;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      env: {
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-chat',
        MODEL_MAX_RETRIES: '0',
        MODEL_TIMEOUT_MS: '10000',
        MONTHLY_MESSAGE_QUOTA: '1000',
      },
    });
    org = await t.createOrg('Behaviour');
    botSlug = (await org.api.post<{ slug: string }>('/api/v1/chatbots', { name: 'Retry bot' })).body.data.slug;
  });
  beforeEach(() => fake.reset());
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  it('retries a 5xx with backoff under the same Idempotency-Key, and the message is stored once', async () => {
    const { wisp, attempts } = recordingClient({ apiKey: org.adminKey, baseUrl: t.url, retryBaseDelayMs: 10 });
    fake.failNext(1, 500);
    const answer = await wisp.chat.send({ chatbot: botSlug, message: 'try again please' });
    expect(answer.response).toBe('Echo: try again please');
    expect(attempts.map((a) => a.status)).toEqual([503, 200]);
    expect(attempts[0]!.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(attempts[1]!.idempotencyKey).toBe(attempts[0]!.idempotencyKey);
    const messages = await wisp.conversations.messages(answer.conversationId).toArray();
    expect(messages.map((m) => `${m.role}:${m.status}`)).toEqual(['user:complete', 'assistant:complete']);
  });

  it('uses the Idempotency-Key it is given, and a replay answers the first response', async () => {
    const { wisp, attempts } = recordingClient({ apiKey: org.adminKey, baseUrl: t.url });
    const first = await wisp.chatbots.create({ name: 'Once only' }, { idempotencyKey: 'create-once-only' });
    const second = await wisp.chatbots.create({ name: 'Once only' }, { idempotencyKey: 'create-once-only' });
    expect(second.id).toBe(first.id);
    expect(attempts.map((a) => a.idempotencyKey)).toEqual(['create-once-only', 'create-once-only']);
  });

  it('does not wait out a Retry-After longer than allowed: an exhausted quota fails at once', async () => {
    const spender = await t.createOrg('Spent');
    await spender.api.post('/api/v1/chatbots', { name: 'Spent bot', slug: 'spent-bot' });
    await t.app.services.usage.increment(spender.id, { messages: 1000 });
    const { wisp, attempts } = recordingClient({ apiKey: spender.adminKey, baseUrl: t.url });
    const error = (await wisp.chat
      .send({ chatbot: 'spent-bot', message: 'hi' })
      .catch((e: unknown) => e)) as WispApiError;
    expect(error).toBeInstanceOf(WispApiError);
    expect(error).toMatchObject({ name: 'QuotaExceededError', status: 429 });
    expect(error.retryAfter).toBeGreaterThan(60);
    expect(attempts).toHaveLength(1);
  });

  it('gives up after timeoutMs with a WispTimeoutError', async () => {
    fake.setLatency(5_000);
    const wisp = new Wisp({ apiKey: org.adminKey, baseUrl: t.url, maxRetries: 0 });
    const error = await wisp.chat
      .send({ chatbot: botSlug, message: 'slow' }, { timeoutMs: 300 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WispTimeoutError);
    expect(error).toMatchObject({ name: 'TimeoutError', status: null });
  });

  it('stops reading a stream when its AbortSignal fires', async () => {
    fake.setLatency(0, 200);
    const wisp = new Wisp({ apiKey: org.adminKey, baseUrl: t.url });
    const controller = new AbortController();
    const stream = await wisp.chat.stream(
      { chatbot: botSlug, message: 'a long answer #long' },
      { signal: controller.signal },
    );
    const read = (async () => {
      let chunks = 0;
      for await (const event of stream) {
        if (event.type === 'chunk' && ++chunks === 2) controller.abort();
      }
    })();
    await expect(read).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('throws the server’s error when a stream fails midway', async () => {
    fake.dieMidStream(2);
    const wisp = new Wisp({ apiKey: org.adminKey, baseUrl: t.url });
    const stream = await wisp.chat.stream({ chatbot: botSlug, message: 'this will break #long' });
    const texts: string[] = [];
    const error = await (async () => {
      for await (const event of stream) if (event.type === 'chunk') texts.push(event.text);
    })().catch((e: unknown) => e);
    expect(texts.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(WispApiError);
    expect(error).toMatchObject({ name: 'UnavailableError', status: null });
  });
});

describe('the SDK under a rate limit', () => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_FREE_PER_SECOND: '1', RATE_LIMIT_FREE_PER_MINUTE: '100' } });
    org = await t.createOrg('Limited');
  });
  afterAll(() => t.stop());

  it('waits the Retry-After of a 429 and retries with the same Idempotency-Key', async () => {
    const { wisp, attempts } = recordingClient({ apiKey: org.adminKey, baseUrl: t.url });
    const [one, two] = await Promise.all([
      wisp.chatbots.create({ name: 'Limited one' }),
      wisp.chatbots.create({ name: 'Limited two' }),
    ]);
    expect(one.id).not.toBe(two.id);
    const limited = attempts.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    const retried = attempts.filter((a) => a.idempotencyKey === limited[0]!.idempotencyKey);
    expect(retried.map((a) => a.status)).toEqual([...retried.slice(0, -1).map(() => 429), 201]);
    expect((await wisp.chatbots.list()).total).toBe(2);
  });
});
