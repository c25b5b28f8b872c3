import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { replay } from './test/replay.js';

const HEADERS = { Authorization: 'Bearer YOUR_API_KEY', 'Content-Type': 'application/json' };
const BASE = '/v1/api/chat';

/** The `data:` payloads of an SSE body, in order. */
const dataLines = (text: string) =>
  text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice(6));

describe('the /chat/{slug} dialect', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'fake-chat' },
    });
    org = await t.createOrg('Slug chat org');
    for (const slug of ['support-agent', 'agent-slug']) {
      const bot = await org.api.post('/api/v1/chatbots', { name: slug, slug });
      expect(bot.status).toBe(201);
    }
  });
  beforeEach(() => fake.reset());
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  const expectAnswer = (json: Record<string, unknown> | null) =>
    expect(json).toMatchObject({
      data: {
        response: expect.any(String),
        conversationId: expect.stringMatching(/^[0-9a-f]{24}$/),
        metadata: { model: 'fake-chat', tokens: expect.any(Number) },
      },
      error: null,
    });

  it('the basic-chat example answers response, conversationId and metadata { model, tokens }', async () => {
    const res = await replay(t.url, org.adminKey, {
      method: 'POST',
      path: `${BASE}/support-agent`,
      headers: HEADERS,
      body: `{
    "message": "What are your business hours?",
    "stream": false
  }`,
    });
    expect(res.status, res.text).toBe(200);
    expectAnswer(res.json);
    const data = res.json?.data as { response: string; metadata: { tokens: number }; tokensUsed: { total: number } };
    expect(data.response).toContain('What are your business hours?');
    expect(data.metadata.tokens).toBe(data.tokensUsed.total);
    expect(data.metadata.tokens).toBeGreaterThan(0);
  });

  it('the continue-conversation example continues the conversation a previous answer named', async () => {
    const first = await replay(t.url, org.adminKey, {
      method: 'POST',
      path: `${BASE}/support-agent`,
      headers: HEADERS,
      body: `{
    "message": "What are your business hours?",
    "stream": false
  }`,
    });
    const conversationId = (first.json?.data as { conversationId: string }).conversationId;
    const res = await replay(t.url, org.adminKey, {
      method: 'POST',
      path: `${BASE}/support-agent`,
      headers: HEADERS,
      body: `{
    "message": "Can you elaborate on that?",
    "stream": false,
    "conversationId": "${conversationId}"
  }`,
    });
    expect(res.status, res.text).toBe(200);
    expectAnswer(res.json);
    expect((res.json?.data as { conversationId: string }).conversationId).toBe(conversationId);
    const messages = await org.api.get<unknown[]>(`/api/v1/conversations/${conversationId}/messages`);
    expect(messages.body.data).toHaveLength(4);
  });

  it.each([
    [
      'the streaming example',
      'support-agent',
      `{
    "message": "Tell me a long story",
    "stream": true
  }`,
    ],
    ['the SSE-format example', 'agent-slug', `{"message": "Hello", "stream": true}`],
  ])('%s streams {"chunk"} lines and then [DONE], nothing else', async (_label, slug, body) => {
    const res = await replay(t.url, org.adminKey, { method: 'POST', path: `${BASE}/${slug}`, headers: HEADERS, body });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('wisp-conversation-id')).toMatch(/^[0-9a-f]{24}$/);
    const lines = dataLines(res.text);
    expect(lines.at(-1)).toBe('[DONE]');
    const chunks = lines.slice(0, -1).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(Object.keys(chunk)).toEqual(['chunk']);
    expect(chunks.map((c) => c.chunk).join('')).toContain(slug === 'agent-slug' ? 'Hello' : 'Tell me a long story');
  });

  it('the new- and continue-conversation bodies work on /api/v1/chat/{slug} too', async () => {
    const fresh = await replay(t.url, org.adminKey, {
      method: 'POST',
      path: '/api/v1/chat/support-agent',
      headers: HEADERS,
      body: `{
  "message": "Hello",
  "conversationId": null
}`,
    });
    expect(fresh.status, fresh.text).toBe(200);
    expectAnswer(fresh.json);
    const conversationId = (fresh.json?.data as { conversationId: string }).conversationId;
    const next = await replay(t.url, org.adminKey, {
      method: 'POST',
      path: '/api/v1/chat/support-agent',
      headers: HEADERS,
      body: `{
  "message": "Follow-up question",
  "conversationId": "${conversationId}"
}`,
    });
    expect((next.json?.data as { conversationId: string }).conversationId).toBe(conversationId);
  });

  it('answers the documented error envelopes: no message, no key, unknown slug', async () => {
    const noMessage = await replay(t.url, org.adminKey, {
      method: 'POST',
      path: `${BASE}/support-agent`,
      headers: HEADERS,
      body: '{"stream": false}',
    });
    // Wisp answers a missing field with 422, as every route does.
    expect(noMessage.status).toBe(422);
    expect(noMessage.json).toMatchObject({ data: null, error: { name: 'ValidationError', details: {} } });
    expect((noMessage.json?.error as { message: string }).message).toContain('message');

    const noKey = await fetch(`${t.url}${BASE}/support-agent`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"message": "Hi"}',
    });
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ data: null, error: { name: 'UnauthorizedError' } });

    const unknown = await replay(t.url, org.adminKey, {
      method: 'POST',
      path: `${BASE}/no-such-agent`,
      headers: HEADERS,
      body: '{"message": "Hi"}',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ data: null, error: { name: 'NotFoundError' } });
    expect((unknown.json?.error as { message: string }).message).toContain('no-such-agent');
  });

  it('refuses unknown fields naming them, and needs the chat scope', async () => {
    const extra = await org.api.post(`${BASE}/support-agent`, { message: 'Hi', temperature: 1 });
    expect(extra.status).toBe(422);
    expect(extra.body.error?.message).toContain('temperature');
    const reader = await t.clientWithScopes(org, ['knowledge:read']);
    expect((await reader.post(`${BASE}/support-agent`, { message: 'Hi' })).status).toBe(403);
  });

  it('answers CORS preflights on the root path like the API', async () => {
    const res = await fetch(`${t.url}${BASE}/support-agent`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });
});
