import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_QUEUE_ENV } from '../knowledge/test/knowledge-client.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { replay } from './test/replay.js';

const JSON_HEADERS = { Authorization: 'Bearer YOUR_API_KEY', 'Content-Type': 'application/json' };

describe('the chatbotId + /knowledge dialect (success envelopes)', () => {
  let t: TestApp;
  let org: TestOrg;
  let botId: string;

  beforeAll(async () => {
    t = await startTestApp({ env: FAST_QUEUE_ENV });
    org = await t.createOrg('Knowledge dialect org');
    // The examples' placeholder bot id is a valid slug, so it is used as is.
    const bot = await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Support', slug: 'your-chatbot-id' });
    botId = bot.body.data.id;
  });
  afterAll(() => t.stop());

  it('the list-chatbots example answers success: true with the bots', async () => {
    const res = await replay(t.url, org.adminKey, {
      method: 'GET',
      path: '/api/v1/chatbots',
      headers: JSON_HEADERS,
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ success: true, error: null, data: [{ id: botId, slug: 'your-chatbot-id' }] });
  });

  it('the send-a-message example answers success: true with response, conversationId, messageId and tokensUsed', async () => {
    const res = await replay(t.url, org.adminKey, {
      method: 'POST',
      path: '/api/v1/chat',
      headers: JSON_HEADERS,
      body: `{
"chatbotId": "your-chatbot-id",
"message": "Hello, how can I track my order?",
"sessionId": "user-session-123"
}`,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      success: true,
      error: null,
      data: {
        response: expect.any(String),
        conversationId: expect.stringMatching(/^[0-9a-f]{24}$/),
        messageId: expect.stringMatching(/^[0-9a-f]{24}$/),
        tokensUsed: { total: expect.any(Number) },
      },
    });
  });

  it('every error envelope says success: false', async () => {
    const res = await replay(t.url, 'sk_live_wrong', { method: 'GET', path: '/api/v1/chatbots' });
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ success: false, data: null, error: { name: 'UnauthorizedError' } });
    const missing = await org.api.get('/api/v1/no-such-route');
    expect(missing.body).toMatchObject({ success: false, data: null, error: { name: 'NotFoundError' } });
  });

  it('adds text and URL knowledge named by chatbotId, queued with 202, and lists it by chatbotId', async () => {
    const text = await org.api.post('/api/v1/knowledge', {
      chatbotId: botId,
      type: 'text',
      title: 'Shipping',
      content: 'Orders ship within two business days.',
    });
    expect(text.status, JSON.stringify(text.body)).toBe(202);
    expect(text.body).toMatchObject({ success: true, data: { chatbotId: botId, type: 'text', status: 'queued' } });
    const url = await org.api.post('/api/v1/knowledge', {
      chatbotId: 'your-chatbot-id',
      type: 'url',
      title: 'Help centre',
      url: 'https://example.com/help',
    });
    expect(url.status, JSON.stringify(url.body)).toBe(202);
    expect(url.body.data).toMatchObject({ type: 'url', url: 'https://example.com/help', status: 'queued' });

    const other = await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Other' });
    await org.api.post('/api/v1/knowledge', { chatbotId: other.body.data.id, type: 'text', title: 'X', content: 'Y' });

    const list = await org.api.get<Array<{ title: string }>>(`/api/v1/knowledge?chatbotId=${botId}`);
    expect(list.status).toBe(200);
    expect(list.body.success).toBe(true);
    expect(list.body.data.map((s) => s.title).sort()).toEqual(['Help centre', 'Shipping']);
    expect(list.body.meta).toMatchObject({ page: 1, perPage: 20, total: 2 });
    const all = await org.api.get('/api/v1/knowledge');
    expect(all.body.meta?.total).toBe(3);
  });

  it('adds an uploaded file as knowledge when chatbotId is a form field', async () => {
    const form = new FormData();
    form.append('chatbotId', botId);
    form.append(
      'file',
      new Blob(['# Returns\n\nReturns are free for 30 days.'], { type: 'text/markdown' }),
      'returns.md',
    );
    const res = await fetch(`${t.url}/api/v1/knowledge`, { method: 'POST', headers: org.api.headers(), body: form });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ success: true, data: { type: 'file', title: 'returns.md' } });
  });

  it('refuses knowledge without chatbotId, for an unknown bot, or with unknown fields, naming them', async () => {
    const noBot = await org.api.post('/api/v1/knowledge', { type: 'text', title: 'T', content: 'C' });
    expect(noBot.status).toBe(422);
    expect(noBot.body.error?.message).toContain('chatbotId');
    const unknownBot = await org.api.post('/api/v1/knowledge', {
      chatbotId: 'no-such-bot',
      type: 'text',
      title: 'T',
      content: 'C',
    });
    expect(unknownBot.status).toBe(404);
    const extra = await org.api.post('/api/v1/knowledge', {
      chatbotId: botId,
      type: 'text',
      title: 'T',
      content: 'C',
      priority: 1,
    });
    expect(extra.status).toBe(422);
    expect(extra.body).toMatchObject({ success: false, error: { name: 'ValidationError' } });
    expect(extra.body.error?.message).toContain('priority');
  });

  it('needs knowledge:write to add and knowledge:read to list', async () => {
    const reader = await t.clientWithScopes(org, ['knowledge:read']);
    const add = await reader.post('/api/v1/knowledge', { chatbotId: botId, type: 'text', title: 'T', content: 'C' });
    expect(add.status).toBe(403);
    expect((await reader.get(`/api/v1/knowledge?chatbotId=${botId}`)).status).toBe(200);
  });

  it('PUT replaces a chatbot: fields left out return to their defaults, the slug stays', async () => {
    const created = await org.api.post<{ id: string }>('/api/v1/chatbots', {
      name: 'Replace me',
      instructions: 'Be formal.',
      allowedOrigins: ['https://shop.example'],
      modelSettings: { temperature: 1.2 },
    });
    const id = created.body.data.id;
    const res = await org.api.put(`/api/v1/chatbots/${id}`, { name: 'Replaced', instructions: 'Be brief.' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      data: {
        id,
        name: 'Replaced',
        slug: 'replace-me',
        instructions: 'Be brief.',
        allowedOrigins: [],
        modelSettings: { temperature: 0.3, maxTokens: 800, integrationId: null, model: null },
        status: 'active',
      },
    });
    const patched = await org.api.patch(`/api/v1/chatbots/${id}`, { instructions: 'Patched.' });
    expect(patched.body.data).toMatchObject({ name: 'Replaced', instructions: 'Patched.' });
  });

  it('PUT refuses a body without the required name, or with unknown fields', async () => {
    const noName = await org.api.put(`/api/v1/chatbots/${botId}`, { instructions: 'x' });
    expect(noName.status).toBe(422);
    expect(noName.body.error?.message).toContain('name');
    const extra = await org.api.put(`/api/v1/chatbots/${botId}`, { name: 'x', color: 'red' });
    expect(extra.status).toBe(422);
    expect(extra.body.error?.message).toContain('color');
  });
});
