import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResponse } from '../test/api-client.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

function expectUnknownParameter(res: ApiResponse, name: string): void {
  expect(res.status).toBe(422);
  expect(res.body.data).toBeNull();
  expect(res.body.error?.name).toBe('ValidationError');
  expect(res.body.error?.message).toContain(`"${name}" is not a known parameter`);
  expect((res.body.error?.details as { fields: Array<{ path: string }> }).fields.map((f) => f.path)).toContain(name);
}

describe('unknown query parameters', () => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('Strict');
    await org.api.post('/api/v1/chatbots', { name: 'Strict bot' });
  });
  afterAll(() => t.stop());

  it('refuses bracket forms that would act as operators, naming the parameter', async () => {
    expectUnknownParameter(await org.api.get('/api/v1/conversations?chatbotId[$ne]=x'), 'chatbotId[$ne]');
    expectUnknownParameter(await org.api.get('/api/v1/chatbots?perPage[$gt]=0'), 'perPage[$gt]');
  });

  it('refuses a misspelt parameter instead of silently listing everything', async () => {
    const res = await org.api.get('/api/v1/leads?chatbot=strict-bot');
    expectUnknownParameter(res, 'chatbot');
    expect(res.body.error?.message).toContain('known: page, perPage');
  });

  it('refuses any parameter on a route that takes none, including POSTs and public routes', async () => {
    expectUnknownParameter(await org.api.get('/api/v1/usage?month=2020-01'), 'month');
    expectUnknownParameter(
      await org.api.post('/api/v1/chat?stream=true', { chatbot: 'strict-bot', message: 'hi' }),
      'stream',
    );
    expectUnknownParameter(await t.anonymous.get('/api/v1/widget-config?bot=strict-bot&theme=dark'), 'theme');
  });

  it('accepts the declared parameters', async () => {
    const res = await org.api.get('/api/v1/chatbots?page=1&perPage=5');
    expect(res.status).toBe(200);
    expect(res.body.meta).toEqual({ page: 1, perPage: 5, total: 1 });
  });

  it('answers 405 with Allow for a method a path does not take, and 404 for a path that does not exist', async () => {
    const res = await org.api.request('PUT', '/api/v1/usage', {});
    expect(res.status).toBe(405);
    expect(res.body.error?.name).toBe('MethodNotAllowedError');
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    const bot = await org.api.request('POST', '/api/v1/chatbots/strict-bot', {});
    expect(bot.headers.get('allow')).toMatch(/GET.*PATCH.*DELETE|GET.*DELETE/);
    expect((await org.api.get('/api/v1/no-such-thing')).status).toBe(404);
  });
});
