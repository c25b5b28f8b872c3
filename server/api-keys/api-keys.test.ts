import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../test/api-client.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { hashApiKey } from './api-keys.service.js';

const KEY_FORMAT = /^sk_live_[0-9A-Za-z]{32,}$/;

interface KeyBody {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  key: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

describe('API keys', () => {
  let t: TestApp;
  let orgA: TestOrg;
  let orgB: TestOrg;

  beforeAll(async () => {
    t = await startTestApp();
    orgA = await t.createOrg('Keys A');
    orgB = await t.createOrg('Keys B');
  });
  afterAll(() => t.stop());

  const createKey = (org: TestOrg, name: string, scopes: string[]) =>
    org.api.post<KeyBody>('/api/v1/api-keys', { name, scopes });

  it('creates a key in the sk_live_ + base62 format, shown once with its prefix and scopes', async () => {
    const res = await createKey(orgA, 'Website', ['chat', 'knowledge:read', 'chat']);
    expect(res.status).toBe(201);
    const key = res.body.data;
    expect(key.key).toMatch(KEY_FORMAT);
    expect(orgA.adminKey).toMatch(KEY_FORMAT);
    expect(key.prefix).toBe(key.key.slice(0, key.prefix.length));
    expect(key.prefix.length).toBeLessThan(20);
    expect(key.scopes).toEqual(['chat', 'knowledge:read']);
    const fetched = await orgA.api.get<Record<string, unknown>>(`/api/v1/api-keys/${key.id}`);
    expect(fetched.body.data).not.toHaveProperty('key');
    expect(JSON.stringify(fetched.body)).not.toContain(key.key);
  });

  it('stores only a hash of the key and a short prefix, never the key itself', async () => {
    const { key, id } = (await createKey(orgA, 'Stored', ['chat'])).body.data;
    const raw = await t.app.models.ApiKey.collection.findOne({ _id: (await t.app.models.ApiKey.findById(id))!._id });
    expect(raw?.hash).toBe(hashApiKey(key));
    expect(raw?.hash).not.toContain(key.slice(8));
    expect(JSON.stringify(raw)).not.toContain(key.slice(14));
    const everything = JSON.stringify(await t.app.models.ApiKey.collection.find().toArray());
    expect(everything).not.toContain(key);
  });

  it('lists keys newest first with pagination meta, without secrets, and records last use', async () => {
    const org = await t.createOrg('Listing');
    const first = (await createKey(org, 'one', ['chat'])).body.data;
    await new ApiClient(t.url, first.key).get('/api/v1/chatbots');
    await createKey(org, 'two', ['chat']);
    const page = await org.api.get<KeyBody[]>('/api/v1/api-keys?perPage=2');
    expect(page.status).toBe(200);
    expect(page.body.meta).toEqual({ page: 1, perPage: 2, total: 3 });
    expect(page.body.data.map((k) => k.name)).toEqual(['two', 'one']);
    for (const key of page.body.data) expect(key).not.toHaveProperty('key');
    const rest = await org.api.get<KeyBody[]>('/api/v1/api-keys?perPage=2&page=2');
    expect(rest.body.data.map((k) => k.name)).toEqual(['Admin key']);
    // Last use is written in the background, after the request that used the key.
    await vi.waitFor(async () => {
      const listed = await org.api.get<KeyBody[]>('/api/v1/api-keys');
      expect(listed.body.data.find((k) => k.id === first.id)?.lastUsedAt).toEqual(expect.any(String));
    });
  });

  it('rotates a key: the new key works with the same scopes and the old one answers 401', async () => {
    const old = (await createKey(orgA, 'Rotating', ['knowledge:read'])).body.data;
    const rotated = await orgA.api.post<KeyBody>(`/api/v1/api-keys/${old.id}/rotate`);
    expect(rotated.status).toBe(201);
    expect(rotated.body.data.key).toMatch(KEY_FORMAT);
    expect(rotated.body.data.key).not.toBe(old.key);
    expect(rotated.body.data.scopes).toEqual(['knowledge:read']);
    expect((await new ApiClient(t.url, rotated.body.data.key).get('/api/v1/chatbots')).status).toBe(200);
    const oldRes = await new ApiClient(t.url, old.key).get('/api/v1/chatbots');
    expect(oldRes.status).toBe(401);
    expect(oldRes.body.error?.message).toBe('The API key has been revoked');
    const again = await orgA.api.post(`/api/v1/api-keys/${old.id}/rotate`);
    expect(again.status).toBe(409);
    expect(again.body.error?.name).toBe('ConflictError');
  });

  it('revokes a key at once, even one that was just used, and says when', async () => {
    const key = (await createKey(orgA, 'Revoking', ['knowledge:read'])).body.data;
    const client = new ApiClient(t.url, key.key);
    expect((await client.get('/api/v1/chatbots')).status).toBe(200);
    const revoked = await orgA.api.delete<KeyBody>(`/api/v1/api-keys/${key.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.data.revokedAt).toEqual(expect.any(String));
    expect((await client.get('/api/v1/chatbots')).status).toBe(401);
  });

  it('answers 404 when another organization reads, rotates or revokes a key, and leaves it working', async () => {
    const key = (await createKey(orgA, 'Private key', ['knowledge:read'])).body.data;
    for (const res of [
      await orgB.api.get(`/api/v1/api-keys/${key.id}`),
      await orgB.api.post(`/api/v1/api-keys/${key.id}/rotate`),
      await orgB.api.delete(`/api/v1/api-keys/${key.id}`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error?.name).toBe('NotFoundError');
    }
    const listed = await orgB.api.get<KeyBody[]>('/api/v1/api-keys?perPage=100');
    expect(listed.body.data.map((k) => k.id)).not.toContain(key.id);
    expect((await new ApiClient(t.url, key.key).get('/api/v1/chatbots')).status).toBe(200);
  });

  it('refuses unknown scopes, empty scope lists and unknown fields with 422', async () => {
    const unknown = await orgA.api.post('/api/v1/api-keys', { name: 'x', scopes: ['chat', 'root'] });
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(unknown.body.error?.details)).toContain('scopes.1');
    expect((await orgA.api.post('/api/v1/api-keys', { name: 'x', scopes: [] })).status).toBe(422);
    expect((await orgA.api.post('/api/v1/api-keys', { name: 'x', scopes: ['chat'], hash: 'h' })).status).toBe(422);
    expect((await orgA.api.get('/api/v1/api-keys/not-an-id')).status).toBe(422);
  });

  it('lets only admin keys manage keys', async () => {
    const chatOnly = await t.clientWithScopes(orgA, ['chat', 'knowledge:write']);
    const res = await chatOnly.post('/api/v1/api-keys', { name: 'escalate', scopes: ['admin'] });
    expect(res.status).toBe(403);
    expect(res.body.error?.message).toContain('"admin"');
  });
});
