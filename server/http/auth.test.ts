import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../test/api-client.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

describe('API key authentication and scopes', () => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('Auth org');
  });
  afterAll(() => t.stop());

  it('when no key is sent, answers 401 asking for a Bearer key', async () => {
    const res = await t.anonymous.get('/api/v1/chatbots');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      success: false,
      data: null,
      error: { name: 'UnauthorizedError', message: expect.stringMatching(/^Missing API key/), details: null },
    });
  });

  it('when the Authorization header is not a Bearer token, answers 401 saying how to send it', async () => {
    const res = await t.anonymous.get('/api/v1/chatbots', { authorization: `Basic ${org.adminKey}` });
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toMatch(/must be `Bearer <key>`/);
  });

  it('when the key does not look like a key, answers 401 saying it is malformed', async () => {
    const res = await new ApiClient(t.url, 'not-a-key').get('/api/v1/chatbots');
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toMatch(/malformed/);
  });

  it('when the key is well-formed but unknown, answers 401 saying it is not valid', async () => {
    const res = await new ApiClient(t.url, `sk_live_${'A'.repeat(40)}`).get('/api/v1/chatbots');
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toBe('The API key is not valid');
  });

  it('when the key has been revoked, answers 401 saying so', async () => {
    const created = await org.api.post<{ id: string; key: string }>('/api/v1/api-keys', {
      name: 'Soon revoked',
      scopes: ['knowledge:read'],
    });
    const client = new ApiClient(t.url, created.body.data.key);
    expect((await client.get('/api/v1/chatbots')).status).toBe(200);
    expect((await org.api.delete(`/api/v1/api-keys/${created.body.data.id}`)).status).toBe(200);
    const res = await client.get('/api/v1/chatbots');
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toBe('The API key has been revoked');
  });

  it('when the key lacks the scope, answers 403 naming it', async () => {
    const chatOnly = await t.clientWithScopes(org, ['chat']);
    const res = await chatOnly.post('/api/v1/chatbots', { name: 'Not allowed' });
    expect(res.status).toBe(403);
    expect(res.body.error).toEqual({
      name: 'ForbiddenError',
      message: 'This API key lacks the "admin" scope',
      details: { requiredScope: 'admin', keyScopes: ['chat'] },
    });
    const list = await chatOnly.get('/api/v1/chatbots');
    expect(list.status).toBe(403);
    expect(list.body.error?.message).toContain('"knowledge:read"');
  });

  it('when the key has the scope, lets the request through; admin implies every scope', async () => {
    const reader = await t.clientWithScopes(org, ['knowledge:read']);
    expect((await reader.get('/api/v1/chatbots')).status).toBe(200);
    expect((await org.api.get('/api/v1/chatbots')).status).toBe(200);
  });

  it('checks the key before validating the request, so anonymous callers learn nothing about a route', async () => {
    const res = await t.anonymous.post('/api/v1/chatbots', { unknownField: true });
    expect(res.status).toBe(401);
  });
});
