import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CurrentConsoleSessionDto } from '../../shared/schemas/console-sessions.js';
import type { RetrievalPreviewDto } from '../../shared/schemas/sources.js';
import { addSource, createBot, FAST_QUEUE_ENV, waitForSource } from '../knowledge/test/knowledge-client.js';
import { ApiClient, type ApiResponse } from '../test/api-client.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { createConsoleLink } from './console-sessions.service.js';

/** A browser-like caller: the session cookie it was given, and the CSRF token when it sends one. */
interface Session {
  cookie: string;
  setCookie: string;
  body: CurrentConsoleSessionDto;
  /** Calls the API with the cookie only (no key); `csrf` adds the session's X-CSRF-Token. */
  call<T = unknown>(method: string, path: string, body?: unknown, csrf?: boolean): Promise<ApiResponse<T>>;
}

describe('owner console sessions', () => {
  let t: TestApp;
  let org: TestOrg;
  let anonymous: ApiClient;

  beforeAll(async () => {
    t = await startTestApp({ env: FAST_QUEUE_ENV });
    org = await t.createOrg('Console');
    anonymous = new ApiClient(t.url, null);
  });
  afterAll(() => t.stop());

  async function signIn(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Session> {
    const res = await anonymous.request<CurrentConsoleSessionDto>('POST', '/api/v1/console/sessions', body, headers);
    expect(res.status, JSON.stringify(res.body.error)).toBe(201);
    const setCookie = res.headers.get('set-cookie') ?? '';
    const cookie = setCookie.split(';')[0]!;
    const data = res.body.data;
    return {
      cookie,
      setCookie,
      body: data,
      call: <T>(method: string, path: string, payload?: unknown, csrf = true) =>
        anonymous.request<T>(method, path, payload, { cookie, ...(csrf ? { 'x-csrf-token': data.csrfToken } : {}) }),
    };
  }

  it('exchanges an API key for an HttpOnly SameSite=Strict cookie on the API path; the token is stored only hashed', async () => {
    const session = await signIn({ apiKey: org.adminKey }, { 'user-agent': 'console-test' });
    expect(session.setCookie).toMatch(/^wisp_console=[A-Za-z0-9_-]{40,};/);
    expect(session.setCookie).toContain('HttpOnly');
    expect(session.setCookie).toContain('SameSite=Strict');
    expect(session.setCookie).toContain('Path=/api/v1');
    expect(session.setCookie).toContain('Expires=');
    expect(session.setCookie).not.toContain('Secure');
    expect(session.body).toMatchObject({
      organizationId: org.id,
      via: 'api-key',
      scopes: expect.arrayContaining(['admin']),
      current: true,
    });
    expect(session.body.csrfToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const token = session.cookie.split('=')[1]!;
    expect(JSON.stringify(session.body)).not.toContain(token);
    const stored = JSON.stringify(await t.app.models.ConsoleSession.collection.find().toArray());
    expect(stored).not.toContain(token);
    expect(stored).toContain('console-test');

    const current = await session.call<CurrentConsoleSessionDto>('GET', '/api/v1/console/sessions/current');
    expect(current.status).toBe(200);
    expect(current.body.data.csrfToken).toBe(session.body.csrfToken);
  });

  it('marks the cookie Secure when the console is reached over HTTPS through a local proxy', async () => {
    const session = await signIn({ apiKey: org.adminKey }, { 'x-forwarded-proto': 'https' });
    expect(session.setCookie).toContain('Secure');
  });

  it('reads with the cookie alone but refuses a change without the CSRF token, naming the header', async () => {
    const session = await signIn({ apiKey: org.adminKey });
    expect((await session.call('GET', '/api/v1/chatbots', undefined, false)).status).toBe(200);
    const forged = await session.call('POST', '/api/v1/chatbots', { name: 'Forged' }, false);
    expect(forged.status).toBe(403);
    expect(forged.body.error?.message).toMatch(/X-CSRF-Token/);
    const wrong = await anonymous.request(
      'POST',
      '/api/v1/chatbots',
      { name: 'Forged' },
      {
        cookie: session.cookie,
        'x-csrf-token': 'x'.repeat(43),
      },
    );
    expect(wrong.status).toBe(403);
    const created = await session.call<{ name: string }>('POST', '/api/v1/chatbots', { name: 'From the console' });
    expect(created.status).toBe(201);
    expect(created.body.data.name).toBe('From the console');
  });

  it("acts with exactly the key's scopes, and ends when the key is revoked", async () => {
    const keyRes = await org.api.post<{ id: string; key: string }>('/api/v1/api-keys', {
      name: 'Reader',
      scopes: ['knowledge:read'],
    });
    const session = await signIn({ apiKey: keyRes.body.data.key });
    expect(session.body.scopes).toEqual(['knowledge:read']);
    expect((await session.call('GET', '/api/v1/chatbots')).status).toBe(200);
    const refused = await session.call('POST', '/api/v1/chatbots', { name: 'Nope' });
    expect(refused.status).toBe(403);
    expect(refused.body.error?.message).toBe('This API key lacks the "admin" scope');
    expect((await session.call('GET', '/api/v1/leads')).status).toBe(403);

    await org.api.delete(`/api/v1/api-keys/${keyRes.body.data.id}`);
    const after = await session.call('GET', '/api/v1/chatbots');
    expect(after.status).toBe(401);
    expect(after.body.error?.message).toBe('The API key has been revoked');
  });

  it('signs out: the session is revoked, the cookie cleared, and the next request is 401', async () => {
    const session = await signIn({ apiKey: org.adminKey });
    const withoutCsrf = await session.call('DELETE', '/api/v1/console/sessions/current', undefined, false);
    expect(withoutCsrf.status).toBe(403);
    const out = await session.call<{ revokedAt: string | null }>('DELETE', '/api/v1/console/sessions/current');
    expect(out.status).toBe(200);
    expect(out.body.data.revokedAt).toEqual(expect.any(String));
    expect(out.headers.get('set-cookie')).toMatch(/^wisp_console=;.*Expires=Thu, 01 Jan 1970/);
    const after = await session.call('GET', '/api/v1/chatbots');
    expect(after.status).toBe(401);
    expect(after.body.error?.message).toMatch(/signed out/);
  });

  it('lists sessions for admins (without tokens) and revokes another one', async () => {
    const own = await signIn({ apiKey: org.adminKey });
    const other = await signIn({ apiKey: org.adminKey });
    const listed = await own.call<Array<{ id: string; current: boolean; via: string }>>(
      'GET',
      '/api/v1/console/sessions?perPage=100',
    );
    expect(listed.status).toBe(200);
    expect(listed.body.data.find((s) => s.id === own.body.id)?.current).toBe(true);
    expect(listed.body.data.find((s) => s.id === other.body.id)?.current).toBe(false);
    expect(JSON.stringify(listed.body)).not.toContain(other.cookie.split('=')[1]);

    const revoked = await own.call('DELETE', `/api/v1/console/sessions/${other.body.id}`);
    expect(revoked.status).toBe(200);
    expect((await other.call('GET', '/api/v1/chatbots')).status).toBe(401);
    expect((await own.call('GET', '/api/v1/chatbots')).status).toBe(200);

    const elsewhere = await t.createOrg('Other');
    expect((await elsewhere.api.delete(`/api/v1/console/sessions/${own.body.id}`)).status).toBe(404);
  });

  it('refuses an expired session with a message that says to sign in again', async () => {
    const session = await signIn({ apiKey: org.adminKey });
    await t.app.models.ConsoleSession.updateOne(
      { _id: session.body.id },
      { $set: { expiresAt: new Date(Date.now() - 1000) } },
    );
    const res = await session.call('GET', '/api/v1/chatbots');
    expect(res.status).toBe(401);
    expect(res.body.error?.message).toBe('The console session has expired: sign in again');
  });

  it('signs in once with a one-time link, as admin; the link cannot be used twice', async () => {
    const { token } = await createConsoleLink(t.app.models.ConsoleLink, org.id);
    const session = await signIn({ link: token });
    expect(session.body).toMatchObject({ via: 'link', keyId: null, scopes: ['admin'] });
    expect((await session.call('POST', '/api/v1/chatbots', { name: 'Via link' })).status).toBe(201);
    const again = await anonymous.post('/api/v1/console/sessions', { link: token });
    expect(again.status).toBe(401);
    expect(again.body.error?.message).toMatch(/used already or has expired/);
  });

  it('explains bad sign-ins: a wrong key, both or neither credential, a key-only caller asking for its session', async () => {
    const wrong = await anonymous.post('/api/v1/console/sessions', { apiKey: 'sk_live_nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error?.message).toBe('The API key is not valid');
    const both = await anonymous.post('/api/v1/console/sessions', { apiKey: org.adminKey, link: 'x' });
    expect(both.status).toBe(422);
    expect(both.body.error?.message).toMatch(/exactly one of apiKey and link/);
    const unknown = await anonymous.post('/api/v1/console/sessions', { apiKey: org.adminKey, remember: true });
    expect(unknown.status).toBe(422);
    const keyCaller = await org.api.get('/api/v1/console/sessions/current');
    expect(keyCaller.status).toBe(400);
    expect(keyCaller.body.error?.message).toMatch(/not a console session/);
    expect((await anonymous.get('/api/v1/console/sessions/current')).status).toBe(401);
  });
});

describe('retrieval preview', () => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestApp({ env: FAST_QUEUE_ENV });
    org = await t.createOrg('Preview');
  });
  afterAll(() => t.stop());

  it('shows the passages a question finds, with scores and confidence, without asking the model', async () => {
    const bot = await createBot(org.api);
    const source = await addSource(org.api, bot, {
      type: 'text',
      title: 'Shipping',
      content: 'We ship tents to every address in the EU within 3 working days. Returns are free for 30 days.',
    });
    await waitForSource(org.api, source.id);
    const res = await org.api.post<RetrievalPreviewDto>(`/api/v1/chatbots/${bot}/retrieval-preview`, {
      query: 'How long does shipping of tents take?',
    });
    expect(res.status).toBe(200);
    expect(res.body.data.confidence).toBeGreaterThan(0);
    expect(res.body.data.passages[0]).toMatchObject({ sourceId: source.id, title: 'Shipping' });
    expect(res.body.data.passages[0]!.score).toBeGreaterThan(0);

    const bad = await org.api.post(`/api/v1/chatbots/${bot}/retrieval-preview`, { query: '', top: 3 });
    expect(bad.status).toBe(422);
    const missing = await org.api.post('/api/v1/chatbots/0123456789abcdef01234567/retrieval-preview', { query: 'x' });
    expect(missing.status).toBe(404);
    const reader = await t.clientWithScopes(org, ['chat']);
    expect((await reader.post(`/api/v1/chatbots/${bot}/retrieval-preview`, { query: 'x' })).status).toBe(403);
  });
});
