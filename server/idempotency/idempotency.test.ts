import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

interface Bot {
  id: string;
  name: string;
}

/** The key lock of the test app: short, so a request can outlast it. */
const LOCK_MS = 2000;

describe('Idempotency-Key on POST requests', () => {
  let t: TestApp;
  let fake: FakeLlm;
  let org: TestOrg;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'fake-chat', IDEMPOTENCY_LOCK_MS: String(LOCK_MS) },
    });
    org = await t.createOrg('Retrying');
    await org.api.post('/api/v1/chatbots', { name: 'Answering bot' });
  });
  beforeEach(() => fake.reset());
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  const withKey = (key: string) => ({ 'idempotency-key': key });
  /** Polls `read` until it gives something (stored state, not time, is what is waited on). */
  const waitFor = async <T>(read: () => Promise<T | null | undefined>): Promise<T> => {
    for (;;) {
      const value = await read();
      if (value) return value;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const chatCalls = () => fake.calls.filter((call) => call.path === '/v1/chat/completions').length;
  const botsNamed = async (name: string) =>
    (await org.api.get<Bot[]>('/api/v1/chatbots?perPage=100')).body.data.filter((bot) => bot.name === name);

  it('replays the first response to the same key and body, without creating twice', async () => {
    const key = randomUUID();
    const first = await org.api.post<Bot>('/api/v1/chatbots', { name: 'Once only' }, withKey(key));
    const again = await org.api.post<Bot>('/api/v1/chatbots', { name: 'Once only' }, withKey(key));
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await botsNamed('Once only')).toHaveLength(1);
  });

  it('answers a repeated chat from the stored response without asking the model again', async () => {
    const key = randomUUID();
    const body = { chatbot: 'answering-bot', message: 'Where is my order?', metadata: { a: 1, b: 2 } };
    const first = await org.api.post('/api/v1/chat', body, withKey(key));
    const again = await org.api.post(
      '/api/v1/chat',
      { metadata: { b: 2, a: 1 }, message: 'Where is my order?', chatbot: 'answering-bot' },
      withKey(key),
    );
    expect(first.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(chatCalls()).toBe(1);
  });

  it('refuses the same key with another body with 422 IdempotencyError', async () => {
    const key = randomUUID();
    await org.api.post('/api/v1/chatbots', { name: 'First use' }, withKey(key));
    const reused = await org.api.post('/api/v1/chatbots', { name: 'Second use' }, withKey(key));
    expect(reused.status).toBe(422);
    expect(reused.body.error?.name).toBe('IdempotencyError');
    expect(reused.body.error?.message).toContain('use a new key');
    expect(await botsNamed('Second use')).toHaveLength(0);
  });

  it('runs one of several concurrent requests with one key; the others get 409 or its response', async () => {
    fake.setLatency(300);
    try {
      const key = randomUUID();
      const body = { chatbot: 'answering-bot', message: 'All at once' };
      const results = await Promise.all(
        Array.from({ length: 8 }, () => org.api.post('/api/v1/chat', body, withKey(key))),
      );
      const ran = results.filter((res) => res.status === 200 && !res.headers.get('idempotent-replayed'));
      expect(ran).toHaveLength(1);
      for (const res of results.filter((r) => r !== ran[0])) {
        if (res.status === 409) {
          expect(res.body.error?.name).toBe('ConflictError');
          expect(res.body.error?.message).toContain('still running');
          expect(res.headers.get('retry-after')).toBe('1');
        } else {
          expect(res.headers.get('idempotent-replayed')).toBe('true');
          expect(res.body).toEqual(ran[0]!.body);
        }
      }
      expect(chatCalls()).toBe(1);
      const replay = await org.api.post('/api/v1/chat', body, withKey(key));
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toEqual(ran[0]!.body);
    } finally {
      fake.setLatency(0, 0);
    }
  });

  it('keeps the key of a request that outlasts the lock time held (renewed): a retry meanwhile is 409, not a second run', async () => {
    fake.setLatency(3 * LOCK_MS);
    try {
      const key = randomUUID();
      const body = { chatbot: 'answering-bot', message: 'Slowly' };
      const first = org.api.post('/api/v1/chat', body, withKey(key));
      const claimed = await waitFor(() => t.app.models.IdempotencyKey.findOne({ key }).lean());
      // Past the first lock's end: only a renewal still holds the key.
      const renewed = await waitFor(async () => {
        const claim = await t.app.models.IdempotencyKey.findOne({ key }).lean();
        return claim && claim.lockedUntil > claimed.lockedUntil && Date.now() > claimed.lockedUntil.getTime()
          ? claim
          : null;
      });
      expect(renewed.state).toBe('running');
      const retry = await org.api.post('/api/v1/chat', body, withKey(key));
      expect(retry.status).toBe(409);
      expect((await first).status).toBe(200);
      expect(chatCalls()).toBe(1);
    } finally {
      fake.setLatency(0, 0);
    }
  });

  it('runs a retry whose key was left running by a stopped server once its lock lapsed', async () => {
    const key = randomUUID();
    const body = { name: 'Cut by a crash' };
    const first = await org.api.post<Bot>('/api/v1/chatbots', body, withKey(key));
    expect(first.status).toBe(201);
    // What a server killed mid-request leaves: the claim running, renewed no more.
    await t.app.models.IdempotencyKey.updateOne(
      { key },
      { $set: { state: 'running', lockedUntil: new Date(Date.now() - 1) }, $unset: { status: 1, body: 1 } },
    );
    const retried = await org.api.post<Bot>('/api/v1/chatbots', body, withKey(key));
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    const replayed = await org.api.post<Bot>('/api/v1/chatbots', body, withKey(key));
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.body).toEqual(retried.body);
  });

  it('keeps keys per organization, and runs again once a key has expired', async () => {
    const key = randomUUID();
    const other = await t.createOrg('Other tenant');
    const mine = await org.api.post<Bot>('/api/v1/chatbots', { name: 'Shared key' }, withKey(key));
    const theirs = await other.api.post<Bot>('/api/v1/chatbots', { name: 'Shared key' }, withKey(key));
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(theirs.body.data.id).not.toBe(mine.body.data.id);

    await t.app.models.IdempotencyKey.updateMany({ key }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    const later = await org.api.post<Bot>('/api/v1/chatbots', { name: 'Shared key' }, withKey(key));
    expect(later.status).toBe(201);
    expect(later.headers.get('idempotent-replayed')).toBeNull();
    expect(await botsNamed('Shared key')).toHaveLength(2);
  });

  it('does not keep failures a retry should run again', async () => {
    fake.failNext(10, 500);
    const key = randomUUID();
    const body = { chatbot: 'answering-bot', message: 'Try me twice' };
    const failed = await org.api.post('/api/v1/chat', body, withKey(key));
    expect(failed.status).toBe(503);
    fake.reset();
    const retried = await org.api.post('/api/v1/chat', body, withKey(key));
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
  });

  it('refuses a key on a streamed chat, and a malformed key, naming the header', async () => {
    const streamed = await org.api.post(
      '/api/v1/chat',
      { chatbot: 'answering-bot', message: 'hi', stream: true },
      withKey(randomUUID()),
    );
    expect(streamed.status).toBe(422);
    expect(streamed.body.error?.message).toContain('Idempotency-Key cannot be used with "stream": true');
    const malformed = await org.api.post('/api/v1/chatbots', { name: 'x' }, withKey('x'.repeat(300)));
    expect(malformed.status).toBe(422);
    expect(malformed.body.error?.message).toContain('Idempotency-Key must be 1 to 255');
  });

  it('documents the header on every POST operation', async () => {
    const doc = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>>;
    };
    const posts = Object.entries(doc.paths).flatMap(([path, ops]) => (ops.post ? [[path, ops.post] as const] : []));
    expect(posts.length).toBeGreaterThan(5);
    for (const [path, op] of posts) {
      expect(
        op.parameters?.some((p) => p.in === 'header' && p.name === 'Idempotency-Key'),
        path,
      ).toBe(true);
    }
  });
});
