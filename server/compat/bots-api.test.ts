import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

interface Bot {
  id: string;
  name: string;
  slug: string;
  modelSettings: { integrationId: string | null };
}

describe('the /bots dialect', () => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('Bots org');
  });
  afterAll(() => t.stop());

  it('creates, lists, reads, updates and deletes bots as chatbots', async () => {
    const created = await org.api.post<Bot & { identitySecret: string }>('/api/v1/bots', {
      name: 'Sales Bot',
      instructions: 'Sell.',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ success: true, data: { name: 'Sales Bot', slug: 'sales-bot' } });
    expect(created.body.data.identitySecret).toEqual(expect.any(String));
    const id = created.body.data.id;

    const list = await org.api.get<Bot[]>('/api/v1/bots');
    expect(list.body.data.map((b) => b.id)).toContain(id);
    expect((await org.api.get<Bot>('/api/v1/bots/sales-bot')).body.data.id).toBe(id);
    expect((await org.api.get<Bot>(`/api/v1/chatbots/${id}`)).body.data.name).toBe('Sales Bot');

    const patched = await org.api.patch<Bot>(`/api/v1/bots/${id}`, { name: 'Sales' });
    expect(patched.body.data).toMatchObject({ id, name: 'Sales', slug: 'sales-bot' });
    const bad = await org.api.patch(`/api/v1/bots/${id}`, { system_prompt: 'x' });
    expect(bad.status).toBe(422);
    expect(bad.body.error?.message).toContain('system_prompt');

    const removed = await org.api.delete(`/api/v1/bots/${id}`);
    expect(removed.body).toMatchObject({ success: true, data: { id, deleted: true } });
    expect((await org.api.get(`/api/v1/bots/${id}`)).status).toBe(404);
  });

  it("a bot's integrations are the model connection it uses; creating one attaches it", async () => {
    const bot = (await org.api.post<Bot>('/api/v1/bots', { name: 'Integrated' })).body.data;
    const none = await org.api.get(`/api/v1/bots/${bot.id}/integrations`);
    expect(none.body).toMatchObject({ success: true, data: [], meta: { total: 0 } });

    const created = await org.api.post<{ id: string; hasApiKey: boolean }>(`/api/v1/bots/${bot.id}/integrations`, {
      name: 'Local model',
      baseUrl: 'https://llm.example/v1',
      apiKey: 'sk-test',
      chatModel: 'small',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.data).toMatchObject({ name: 'Local model', hasApiKey: true });
    expect(created.body.data).not.toHaveProperty('apiKey');
    const integrationId = created.body.data.id;
    expect((await org.api.get<Bot>(`/api/v1/bots/${bot.id}`)).body.data.modelSettings.integrationId).toBe(
      integrationId,
    );
    const listed = await org.api.get<Array<{ id: string }>>(`/api/v1/bots/${bot.id}/integrations`);
    expect(listed.body.data.map((i) => i.id)).toEqual([integrationId]);

    expect((await org.api.get(`/api/v1/integrations/${integrationId}`)).status).toBe(200);
    const renamed = await org.api.patch(`/api/v1/integrations/${integrationId}`, { name: 'Renamed' });
    expect(renamed.body.data).toMatchObject({ name: 'Renamed' });
    // In use by the bot: deleting it is refused until the bot points elsewhere.
    expect((await org.api.delete(`/api/v1/integrations/${integrationId}`)).status).toBe(409);
    await org.api.patch(`/api/v1/bots/${bot.id}`, { modelSettings: { integrationId: null } });
    expect((await org.api.delete(`/api/v1/integrations/${integrationId}`)).status).toBe(200);

    const wrongBot = await org.api.post('/api/v1/bots/no-such-bot/integrations', {
      name: 'x',
      baseUrl: 'https://llm.example/v1',
      apiKey: 'k',
    });
    expect(wrongBot.status).toBe(404);
  });

  it("lists a bot's conversations, pages their messages with per_page, and deletes one", async () => {
    const bot = (await org.api.post<Bot>('/api/v1/bots', { name: 'Talker' })).body.data;
    const other = (await org.api.post<Bot>('/api/v1/bots', { name: 'Other talker' })).body.data;
    const first = await org.api.post<{ conversationId: string }>('/api/v1/chat', {
      chatbotId: bot.id,
      message: 'One',
      sessionId: 's1',
    });
    await org.api.post('/api/v1/chat', { chatbotId: bot.id, message: 'Two', sessionId: 's1' });
    await org.api.post('/api/v1/chat', { chatbotId: other.id, message: 'Elsewhere' });
    const conversationId = first.body.data.conversationId;

    const list = await org.api.get<Array<{ id: string }>>(`/api/v1/bots/${bot.id}/conversations`);
    expect(list.status).toBe(200);
    expect(list.body.data.map((c) => c.id)).toEqual([conversationId]);

    const page = await org.api.get<Array<{ content: string }>>(
      `/api/v1/conversations/${conversationId}/messages?page=2&per_page=1`,
    );
    expect(page.status).toBe(200);
    expect(page.body.meta).toEqual({ page: 2, perPage: 1, total: 4 });
    expect(page.body.data).toHaveLength(1);

    const removed = await org.api.delete(`/api/v1/conversations/${conversationId}`);
    expect(removed.body).toMatchObject({ success: true, data: { id: conversationId, deleted: true } });
    expect((await org.api.get(`/api/v1/bots/${bot.id}/conversations`)).body.data).toEqual([]);
  });

  it('takes per_page wherever perPage is: default 20, max 100, and refuses both with different values', async () => {
    const res = await org.api.get('/api/v1/bots?page=1&per_page=2');
    expect(res.body.meta).toMatchObject({ page: 1, perPage: 2 });
    expect((await org.api.get('/api/v1/chatbots?per_page=1')).body.meta).toMatchObject({ perPage: 1 });
    expect((await org.api.get('/api/v1/bots')).body.meta).toMatchObject({ perPage: 20 });
    const tooMany = await org.api.get('/api/v1/bots?per_page=101');
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.error?.message).toContain('per_page');
    expect((await org.api.get('/api/v1/bots?per_page=x')).status).toBe(422);
    expect((await org.api.get('/api/v1/bots?perPage=5&per_page=5')).status).toBe(200);
    const both = await org.api.get('/api/v1/bots?perPage=5&per_page=6');
    expect(both.status).toBe(422);
    expect(both.body.error?.message).toContain('per_page');
  });

  it('needs the native scopes', async () => {
    const reader = await t.clientWithScopes(org, ['knowledge:read']);
    expect((await reader.get('/api/v1/bots')).status).toBe(200);
    expect((await reader.post('/api/v1/bots', { name: 'No' })).status).toBe(403);
    expect((await reader.get('/api/v1/bots/x/integrations')).status).toBe(403);
  });
});
