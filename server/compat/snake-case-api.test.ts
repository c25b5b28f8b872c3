import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_QUEUE_ENV } from '../knowledge/test/knowledge-client.js';
import { createLeadBot, leadRequest, visitorOf } from '../leads/leads.fixtures.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { replay } from './test/replay.js';

const JSON_HEADERS = { Authorization: 'Bearer YOUR_API_KEY', 'Content-Type': 'application/json' };

describe('the snake_case /api dialect', () => {
  let t: TestApp;
  let org: TestOrg;
  let botId: string;

  beforeAll(async () => {
    t = await startTestApp({ env: FAST_QUEUE_ENV });
    org = await t.createOrg('Snake case org');
    const bot = await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Help', slug: 'your-chatbot-id' });
    botId = bot.body.data.id;
  });
  afterAll(() => t.stop());

  const addUrlExample = () =>
    replay(t.url, org.adminKey, {
      method: 'POST',
      path: '/api/sources',
      headers: JSON_HEADERS,
      body: `{
"type": "url",
"url": "https://example.com/help",
"chatbot_id": "your-chatbot-id"
}`,
    });

  it('the add-a-source example queues the URL with 202 and answers snake_case fields', async () => {
    const res = await addUrlExample();
    expect(res.status, res.text).toBe(202);
    expect(res.json).toMatchObject({
      success: true,
      error: null,
      data: {
        chatbot_id: botId,
        type: 'url',
        url: 'https://example.com/help',
        status: 'queued',
        failure_reason: null,
        crawl: { mode: 'page', max_pages: 25 },
        created_at: expect.any(String),
      },
    });
    expect(res.json?.data).not.toHaveProperty('chatbotId');
  });

  it('the two list-sources examples list every source of the organization in snake_case', async () => {
    await org.api.post(`/api/v1/chatbots/${botId}/sources`, { type: 'text', title: 'Passwords', content: 'Reset it.' });
    for (const headers of [
      { Authorization: 'Bearer sk_live_your_api_key_here' },
      { Authorization: 'Bearer YOUR_API_KEY' },
    ]) {
      const res = await replay(t.url, org.adminKey, { method: 'GET', path: '/api/sources', headers });
      expect(res.status, res.text).toBe(200);
      expect(res.json).toMatchObject({ success: true, meta: { page: 1, per_page: 20 } });
      const data = res.json?.data as Array<Record<string, unknown>>;
      expect(data.length).toBeGreaterThanOrEqual(1);
      for (const source of data) expect(source).toMatchObject({ id: expect.any(String), chatbot_id: botId });
    }
    const filtered = await org.api.get('/api/sources?chatbot_id=your-chatbot-id&type=text&page=1&per_page=5');
    expect(filtered.status).toBe(200);
    expect(filtered.body.data).toEqual([expect.objectContaining({ title: 'Passwords', type: 'text' })]);
    expect(filtered.body.meta).toMatchObject({ page: 1, per_page: 5, total: 1 });
  });

  it('the remove-a-source example deletes the source named by ?id=', async () => {
    const created = await addUrlExample();
    const id = (created.json?.data as { id: string }).id;
    const res = await replay(t.url, org.adminKey, { method: 'DELETE', path: `/api/sources?id=${id}` });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ success: true, data: { id, deleted: true } });
    expect((await org.api.get(`/api/v1/sources/${id}`)).status).toBe(404);
    const again = await replay(t.url, org.adminKey, { method: 'DELETE', path: `/api/sources?id=${id}` });
    expect(again.status).toBe(404);
    const noId = await org.api.delete('/api/sources');
    expect(noId.status).toBe(422);
    expect(noId.body.error?.message).toContain('id');
  });

  it('adds text sources and uploaded files with chatbot_id', async () => {
    const text = await org.api.post('/api/sources', {
      type: 'text',
      title: 'Hours',
      content: 'Open 9 to 5.',
      chatbot_id: botId,
    });
    expect(text.status).toBe(202);
    const form = new FormData();
    form.append('chatbot_id', 'your-chatbot-id');
    form.append('file', new Blob(['Returns are free.'], { type: 'text/plain' }), 'returns.txt');
    const res = await fetch(`${t.url}/api/sources`, { method: 'POST', headers: org.api.headers(), body: form });
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({
      data: { type: 'file', chatbot_id: botId, file: { name: 'returns.txt' } },
    });
  });

  it('refuses camelCase or unknown fields on these routes, naming them', async () => {
    const res = await org.api.post('/api/sources', { type: 'url', url: 'https://example.com', chatbotId: botId });
    expect(res.status).toBe(422);
    expect(res.body.error?.message).toContain('chatbotId');
    const chat = await org.api.post('/api/chat', { message: 'Hi', chatbot_id: botId, sessionId: 'x' });
    expect(chat.status).toBe(422);
    expect(chat.body.error?.message).toContain('sessionId');
  });

  it('the send-a-message example answers with snake_case fields and keeps one conversation per session_id', async () => {
    const send = () =>
      replay(t.url, org.adminKey, {
        method: 'POST',
        path: '/api/chat',
        headers: JSON_HEADERS,
        body: `{
"message": "How do I reset my password?",
"chatbot_id": "your-chatbot-id",
"session_id": "optional-session-id"
}`,
      });
    const res = await send();
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      success: true,
      error: null,
      data: {
        response: expect.any(String),
        conversation_id: expect.stringMatching(/^[0-9a-f]{24}$/),
        message_id: expect.any(String),
        tokens_used: { total: expect.any(Number) },
        finish_reason: expect.any(String),
      },
    });
    const again = await send();
    expect((again.json?.data as { conversation_id: string }).conversation_id).toBe(
      (res.json?.data as { conversation_id: string }).conversation_id,
    );
  });

  it('the leads example lists captured leads with snake_case fields', async () => {
    const leadBot = await createLeadBot(org);
    const lead = await t.anonymous.post('/api/v1/widget/leads', leadRequest(leadBot, visitorOf(t, leadBot)));
    expect(lead.status, JSON.stringify(lead.body)).toBe(201);
    const res = await replay(t.url, org.adminKey, {
      method: 'GET',
      path: '/api/leads',
      headers: { Authorization: 'Bearer YOUR_API_KEY' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      success: true,
      meta: { page: 1, per_page: 20, total: 1 },
      data: [
        {
          chatbot_id: leadBot.id,
          email: 'ada@example.com',
          name: 'Ada Lovelace',
          page_url: 'https://shop.example/pricing',
          conversation_ids: expect.any(Array),
          created_at: expect.any(String),
        },
      ],
    });
  });

  it('needs the same scopes as the native routes', async () => {
    const chatOnly = await t.clientWithScopes(org, ['chat']);
    expect((await chatOnly.get('/api/sources')).status).toBe(403);
    expect((await chatOnly.get('/api/leads')).status).toBe(403);
    expect((await t.anonymous.get('/api/sources')).status).toBe(401);
  });
});
