import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

describe('the response envelope and request validation', () => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('Envelope org');
  });
  afterAll(() => t.stop());

  it('wraps a success in { success: true, data, error: null }', async () => {
    const res = await org.api.post('/api/v1/chatbots', { name: 'Envelope bot' });
    expect(res.status).toBe(201);
    expect(res.body.success).toBe(true);
    expect(res.body.error).toBeNull();
    expect(res.body.data).toMatchObject({ name: 'Envelope bot' });
  });

  it('when the JSON is malformed, answers 400 BadRequestError', async () => {
    const res = await org.api.post('/api/v1/chatbots', '{"name": "broken",');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      success: false,
      data: null,
      error: { name: 'BadRequestError', message: 'Malformed JSON in the request body', details: null },
    });
  });

  it('when the body breaks the schema, answers 422 listing every failing field', async () => {
    const res = await org.api.post('/api/v1/chatbots', {
      name: '',
      modelSettings: { temperature: 5, maxTokens: 1 },
      allowedOrigins: ['https://ok.example', 'not an origin'],
    });
    expect(res.status).toBe(422);
    expect(res.body.error?.name).toBe('ValidationError');
    const fields = (res.body.error?.details as { fields: Array<{ path: string; message: string }> }).fields;
    expect(fields.map((f) => f.path).sort()).toEqual([
      'allowedOrigins.1',
      'modelSettings.maxTokens',
      'modelSettings.temperature',
      'name',
    ]);
    for (const field of fields) expect(field.message).toEqual(expect.any(String));
  });

  it('when the body has fields the schema does not know, rejects them with 422, also nested', async () => {
    const top = await org.api.post('/api/v1/chatbots', { name: 'Strict', isAdmin: true });
    expect(top.status).toBe(422);
    expect(JSON.stringify(top.body.error?.details)).toContain('isAdmin');
    const nested = await org.api.post('/api/v1/chatbots', { name: 'Strict', modelSettings: { apiKey: 'x' } });
    expect(nested.status).toBe(422);
    expect(JSON.stringify(nested.body.error?.details)).toContain('apiKey');
  });

  it.each([
    ['a top-level operator', { name: { $gt: '' } }, '$gt'],
    ['a nested operator', { name: 'x', modelSettings: { model: { $ne: null } } }, '$ne'],
    ['an operator inside an array', { name: 'x', allowedOrigins: [{ $where: '1' }] }, '$where'],
    ['a dotted key', { name: 'x', 'modelSettings.model': 'gpt' }, 'modelSettings.model'],
  ])('when the body carries %s, refuses it with 422 before any query', async (_label, body, key) => {
    const before = await t.app.models.Chatbot.countDocuments();
    const res = await org.api.post('/api/v1/chatbots', body);
    expect(res.status).toBe(422);
    expect(res.body.error?.name).toBe('ValidationError');
    expect(res.body.error?.message).toContain(key);
    expect(await t.app.models.Chatbot.countDocuments()).toBe(before);
  });

  it('when operators arrive in the query string or path, they are refused naming them', async () => {
    const query = await org.api.get('/api/v1/chatbots?page[$gt]=0&perPage[$ne]=1');
    expect(query.status).toBe(422);
    const fields = (query.body.error?.details as { fields: Array<{ path: string }> }).fields.map((f) => f.path);
    expect(fields).toEqual(['page[$gt]', 'perPage[$ne]']);
    const path = await org.api.get(`/api/v1/chatbots/${encodeURIComponent('{"$gt":""}')}`);
    expect(path.status).toBe(422);
  });

  it('when the body is larger than 1 MB, answers 413 PayloadTooLargeError', async () => {
    const res = await org.api.post('/api/v1/chatbots', { name: 'Big', instructions: 'x'.repeat(1_100_000) });
    expect(res.status).toBe(413);
    expect(res.body.data).toBeNull();
    expect(res.body.error?.name).toBe('PayloadTooLargeError');
  });

  it('when the route does not exist, answers the 404 envelope, with or without a key', async () => {
    for (const res of [await t.anonymous.get('/api/v1/nope'), await t.anonymous.get('/nope')]) {
      expect(res.status).toBe(404);
      expect(res.body.data).toBeNull();
      expect(res.body.error).toMatchObject({ name: 'NotFoundError', message: expect.stringMatching(/^No route for /) });
    }
  });

  it('when the path exists but not with that method, answers 405 MethodNotAllowedError with Allow', async () => {
    const res = await org.api.delete('/api/v1/chatbots');
    expect(res.status).toBe(405);
    expect(res.body.error?.name).toBe('MethodNotAllowedError');
    expect(res.headers.get('allow')).toBe('GET, POST, HEAD, OPTIONS');
  });

  it('answers 405 on the compatibility paths outside /api/v1 too', async () => {
    const res = await org.api.delete('/api/leads');
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('when a PUT or PATCH comes without a body, answers 422 instead of resetting or ignoring', async () => {
    const bot = await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Bodiless' });
    for (const method of ['PUT', 'PATCH']) {
      const res = await org.api.request<unknown>(method, `/api/v1/chatbots/${bot.body.data.id}/widget-settings`);
      expect(res.status, method).toBe(422);
      expect(res.body.error?.message).toContain('JSON body is required');
    }
  });

  it('when a handler fails unexpectedly, answers 500 InternalError without stack text', async () => {
    // A stored bot without timestamps makes the response mapping throw a plain TypeError.
    const { insertedId } = await t.app.models.Chatbot.collection.insertOne({
      organizationId: new Types.ObjectId(org.id),
      name: 'Corrupt',
      slug: 'corrupt',
    });
    const res = await fetch(`${t.url}/api/v1/chatbots/${insertedId.toString()}`, {
      headers: { authorization: `Bearer ${org.adminKey}` },
    });
    const text = await res.text();
    expect(res.status).toBe(500);
    expect(JSON.parse(text)).toEqual({
      success: false,
      data: null,
      error: { name: 'InternalError', message: 'Something went wrong on our side', details: null },
    });
    expect(text).not.toMatch(/TypeError|toISOString|\bat .+:\d+:\d+/);
  });

  it('sets helmet security headers on every response', async () => {
    const res = await t.anonymous.get('/api/v1/chatbots');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age=/);
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('answers CORS preflights on API routes for any origin, without credentials', async () => {
    const res = await fetch(`${t.url}/api/v1/chatbots`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://someone.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    const actual = await org.api.get('/api/v1/chatbots', { origin: 'https://someone.example' });
    expect(actual.headers.get('access-control-allow-origin')).toBe('*');
    expect(actual.headers.get('access-control-expose-headers')).toContain('Retry-After');
  });
});

describe('when the database goes away', () => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('Doomed org');
    await t.connection.close();
  });
  // The database cannot be dropped through a closed connection; only the server is stopped.
  afterAll(() => t.app.stop(0));

  it('answers 503 UnavailableError without stack traces or driver text', async () => {
    const res = await fetch(`${t.url}/api/v1/chatbots`, { headers: { authorization: `Bearer ${org.adminKey}x` } });
    const text = await res.text();
    expect(res.status).toBe(503);
    expect(JSON.parse(text)).toEqual({
      success: false,
      data: null,
      error: { name: 'UnavailableError', message: 'The database is unavailable; try again shortly', details: null },
    });
    expect(text).not.toMatch(/\bat .+:\d+:\d+|node_modules|Mongo|\.ts\b/);
  });
});
