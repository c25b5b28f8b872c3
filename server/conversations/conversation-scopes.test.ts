import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

describe('conversation scopes', () => {
  let t: TestApp;
  let org: TestOrg;
  let botId: string;

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg();
    botId = (await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Scoped' })).body.data.id;
  });
  afterAll(() => t.stop());

  const startConversation = async () => {
    const res = await org.api.post<{ conversationId: string }>('/api/v1/chat', { chatbotId: botId, message: 'Hello' });
    expect(res.status).toBe(200);
    return res.body.data.conversationId;
  };

  it('when the key may only read conversations, refuses deletion with 403 naming conversations:write', async () => {
    const id = await startConversation();
    const reader = await t.clientWithScopes(org, ['conversations:read']);
    const refused = await reader.delete(`/api/v1/conversations/${id}`);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({
      name: 'ForbiddenError',
      details: { requiredScope: 'conversations:write' },
    });
    expect(refused.body.error?.message).toContain('"conversations:write"');
    expect((await reader.get(`/api/v1/conversations/${id}`)).status).toBe(200);
  });

  it('deletes a conversation with conversations:write, and with admin', async () => {
    const reader = await t.clientWithScopes(org, ['conversations:read']);
    const writer = await t.clientWithScopes(org, ['conversations:write']);
    const first = await startConversation();
    const deleted = await writer.delete(`/api/v1/conversations/${first}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data).toEqual({ id: first, deleted: true });
    expect((await reader.get(`/api/v1/conversations/${first}`)).status).toBe(404);
    const second = await startConversation();
    expect((await org.api.delete(`/api/v1/conversations/${second}`)).status).toBe(200);
  });

  it('offers the new scopes to API keys and lists them in the OpenAPI document', async () => {
    const created = await org.api.post<{ scopes: string[] }>('/api/v1/api-keys', {
      name: 'Eraser',
      scopes: ['conversations:write', 'leads:write'],
    });
    expect(created.status).toBe(201);
    expect(created.body.data.scopes).toEqual(['conversations:write', 'leads:write']);
    const spec = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { description?: string }>>;
    };
    expect(spec.paths['/api/v1/conversations/{id}']?.delete?.description).toContain('`conversations:write`');
    expect(spec.paths['/api/v1/leads/{id}']?.delete?.description).toContain('`leads:write`');
  });
});
