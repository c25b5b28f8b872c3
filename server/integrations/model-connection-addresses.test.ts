import { Types } from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

describe('model connection addresses', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;
  let port: string;

  beforeAll(async () => {
    fake = await startFakeLlm();
    port = new URL(fake.url).port;
    // The operator's own default provider is on loopback too, and stays allowed.
    t = await startTestApp({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'fake-chat', MODEL_RETRY_BACKOFF_MS: '10' },
    });
    org = await t.createOrg();
  });
  beforeEach(() => fake.reset());
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  const connection = (baseUrl: string) => ({ name: 'Provider', baseUrl, apiKey: 'sk-x', chatModel: 'fake-chat' });

  it.each([
    ['loopback', () => `http://127.0.0.1:${port}/v1`],
    ['cloud metadata', () => 'http://169.254.169.254/latest'],
    ['IPv6 loopback', () => `http://[::1]:${port}/v1`],
    ['IPv6 unique-local', () => 'http://[fd00::1]/v1'],
    ['a private network', () => 'https://10.0.0.7/v1'],
    ['a name resolving to loopback', () => `http://localhost:${port}/v1`],
  ])('refuses to save a base URL on %s with 422 naming baseUrl', async (_, url) => {
    const res = await org.api.post('/api/v1/integrations', connection(url()));
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ name: 'ValidationError', details: { fields: [{ path: 'baseUrl' }] } });
    expect(res.body.error?.message).toContain('baseUrl');
    expect(res.body.error?.message).toContain('private, loopback, link-local or reserved');
  });

  it('refuses to change a saved connection to a private base URL', async () => {
    const saved = await org.api.post<{ id: string }>('/api/v1/integrations', connection('https://models.example/v1'));
    expect(saved.status).toBe(201);
    const res = await org.api.patch(`/api/v1/integrations/${saved.body.data.id}`, {
      baseUrl: 'http://169.254.169.254/v1',
    });
    expect(res.status).toBe(422);
    expect(res.body.error?.details).toEqual({ fields: [{ path: 'baseUrl', message: expect.any(String) }] });
    const kept = await org.api.get<{ baseUrl: string }>(`/api/v1/integrations/${saved.body.data.id}`);
    expect(kept.body.data.baseUrl).toBe('https://models.example/v1');
  });

  it.each([
    ['a literal loopback address', () => `http://127.0.0.1:${port}/v1`],
    ['a name that now resolves to loopback', () => `http://localhost:${port}/v1`],
  ])('refuses at call time a connection to %s that got past saving, never calling it', async (_, url) => {
    // As if saved before the rule, or while its DNS name still pointed elsewhere.
    const stored = await t.app.models.Integration.create({
      organizationId: new Types.ObjectId(org.id),
      name: 'Stale',
      baseUrl: url(),
      apiKeyEncrypted: t.app.services.secrets.seal('sk-x'),
      chatModel: 'fake-chat',
      embeddingModel: null,
    });
    const bot = await org.api.post<{ id: string }>('/api/v1/chatbots', {
      name: `Stale ${stored._id.toString()}`,
      modelSettings: { integrationId: stored._id.toString(), model: null },
    });
    const res = await org.api.post('/api/v1/chat', { chatbotId: bot.body.data.id, message: 'Are you there?' });
    expect(res.status).toBe(503);
    expect(res.body.error?.name).toBe('UnavailableError');
    expect(res.body.error?.message).toContain("the model connection's address is refused");
    expect(res.body.error?.message).toContain('baseUrl');
    expect(fake.calls).toEqual([]);
  });

  it("keeps the operator's default provider on loopback working", async () => {
    const bot = await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Default provider' });
    const res = await org.api.post<{ response: string }>('/api/v1/chat', {
      chatbotId: bot.body.data.id,
      message: 'Hi',
    });
    expect(res.status).toBe(200);
    expect(res.body.data.response).toBe('Echo: Hi');
  });
});

describe('model connection addresses the operator allows', () => {
  let fake: FakeLlm;
  let t: TestApp;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({ env: { URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1' } });
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  it('saves and calls a connection to an allowed private address (a local model server)', async () => {
    const org = await t.createOrg();
    const created = await org.api.post<{ id: string }>('/api/v1/integrations', {
      name: 'Local',
      baseUrl: fake.url,
      apiKey: 'sk-x',
      chatModel: 'fake-chat',
    });
    expect(created.status).toBe(201);
    const bot = await org.api.post<{ id: string }>('/api/v1/chatbots', {
      name: 'Local model',
      modelSettings: { integrationId: created.body.data.id, model: null },
    });
    const res = await org.api.post<{ response: string }>('/api/v1/chat', {
      chatbotId: bot.body.data.id,
      message: 'Hello local',
    });
    expect(res.status).toBe(200);
    expect(res.body.data.response).toBe('Echo: Hello local');
    expect(fake.calls.map((c) => c.path)).toEqual(['/v1/chat/completions']);
  });
});
