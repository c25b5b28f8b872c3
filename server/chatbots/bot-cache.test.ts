import type { ChildProcess } from 'node:child_process';
import type { Connection } from 'mongoose';
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WidgetConfig } from '../../shared/schemas/widget-settings.js';
import { ApiClient } from '../test/api-client.js';
import { hasRedis, startRedis } from '../test/redis-server.js';
import { startSecondNode, startTestApp, type SecondNode, type TestApp, type TestOrg } from '../test/test-app.js';
import { signUserToken } from '../test/user-token.js';

type Bot = { id: string; slug: string; name: string; identitySecret: string };

const signUser = (secret: string) => signUserToken(secret, { sub: 'user-1' }, '1h');

/** Writes the bot document behind the app's back, as no code path of the app may. */
const rawRename = (connection: Connection, id: string, name: string) =>
  connection.db!.collection('chatbots').updateOne({ _id: new Types.ObjectId(id) }, { $set: { name } });

/**
 * Node B hears of a write on A through Redis pub/sub: within milliseconds, but not necessarily before A has
 * answered. Two seconds is far below the cache's 10 s expiry, so a check that passes in time proves the
 * invalidation, not the expiry.
 */
const onceBHears = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 2_000, interval: 10 });

describe.skipIf(!hasRedis)('the bot read cache across two nodes on one Redis', () => {
  let redis: ChildProcess;
  let a: TestApp;
  let b: SecondNode;
  let org: TestOrg;
  let onA: ApiClient;
  let onB: ApiClient;

  beforeAll(async () => {
    const started = await startRedis();
    redis = started.process;
    a = await startTestApp({ env: { REDIS_URL: started.url } });
    // A second node on the same database and Redis, as behind a load balancer.
    b = await startSecondNode(a);
    org = await a.createOrg('Two nodes');
    onA = org.api;
    onB = new ApiClient(b.url, org.adminKey);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    redis?.kill('SIGTERM');
  });

  const createBot = async (name: string) => (await onA.post<Bot>('/api/v1/chatbots', { name })).body.data;
  const nameOnB = async (idOrSlug: string) => (await onB.get<Bot>(`/api/v1/chatbots/${idOrSlug}`)).body.data.name;

  it('node B serves the bot from its cache, and an update made through node A is seen on B within milliseconds', async () => {
    const bot = await createBot('Cached bot');
    expect(await nameOnB(bot.id)).toBe('Cached bot');
    // A write that bypasses the app is not announced: B keeps answering from its cache (this is the cache).
    await rawRename(b.connection, bot.id, 'Renamed behind the app');
    expect(await nameOnB(bot.id)).toBe('Cached bot');

    const patched = await onA.patch<Bot>(`/api/v1/chatbots/${bot.id}`, { name: 'Renamed on A', instructions: 'New' });
    expect(patched.status).toBe(200);
    const seen = async () => (await onB.get<Bot & { instructions: string }>(`/api/v1/chatbots/${bot.id}`)).body.data;
    await onceBHears(seen).toMatchObject({ name: 'Renamed on A', instructions: 'New' });
  });

  it('a slug changed on A moves on B within milliseconds: the old slug is not found, the new one is', async () => {
    const bot = await createBot('Slugged bot');
    expect(await nameOnB(bot.slug)).toBe('Slugged bot');
    expect((await onA.patch(`/api/v1/chatbots/${bot.id}`, { slug: 'moved-bot' })).status).toBe(200);
    await onceBHears(async () => (await onB.get(`/api/v1/chatbots/${bot.slug}`)).status).toBe(404);
    expect(await nameOnB('moved-bot')).toBe('Slugged bot');
  });

  it('widget settings and a disabled status changed on A reach the public widget config on B within milliseconds', async () => {
    const bot = await createBot('Styled bot');
    const config = () => b.app.services.widgetSettings.publicConfig(bot.slug);
    expect((await config()).config.appearance.primaryColor).not.toBe('#0f766e');
    const patched = await onA.patch(`/api/v1/chatbots/${bot.id}/widget-settings`, { primaryColor: '#0f766e' });
    expect(patched.status).toBe(200);
    const color = async () => {
      const res = await fetch(`${b.url}/api/v1/widget-config?bot=${bot.slug}`);
      return ((await res.json()) as { data: WidgetConfig }).data.appearance.primaryColor;
    };
    await onceBHears(color).toBe('#0f766e');

    expect((await onA.patch(`/api/v1/chatbots/${bot.id}`, { status: 'disabled' })).status).toBe(200);
    await onceBHears(async () => (await fetch(`${b.url}/api/v1/widget-config?bot=${bot.slug}`)).status).toBe(404);
    expect((await onB.post('/api/v1/chat', { chatbotId: bot.id, message: 'Hello?' })).status).toBe(403);
  });

  it('a rotated identity secret on A refuses tokens signed with the old one on B within milliseconds', async () => {
    const bot = await createBot('Identified bot');
    const oldToken = await signUser(bot.identitySecret);
    const chatOnB = (userToken: string) =>
      onB.post('/api/v1/chat', { chatbotId: bot.id, message: 'Who am I?', userToken });
    expect((await chatOnB(oldToken)).status).toBe(200);
    const rotated = await onA.post<{ identitySecret: string }>(`/api/v1/chatbots/${bot.id}/identity-secret`);
    expect(rotated.status).toBe(201);
    await onceBHears(async () => (await chatOnB(oldToken)).status).toBe(401);
    expect((await chatOnB(await signUser(rotated.body.data.identitySecret))).status).toBe(200);
  });

  it('a bot deleted on A is not found on B within milliseconds, by id, by slug, in chat and in the widget', async () => {
    const bot = await createBot('Doomed bot');
    expect(await nameOnB(bot.id)).toBe('Doomed bot');
    expect(await nameOnB(bot.slug)).toBe('Doomed bot');
    expect((await fetch(`${b.url}/api/v1/widget-config?bot=${bot.id}`)).status).toBe(200);

    expect((await onA.delete(`/api/v1/chatbots/${bot.id}`)).status).toBe(200);
    await onceBHears(async () => (await onB.get(`/api/v1/chatbots/${bot.id}`)).status).toBe(404);
    expect((await onB.get(`/api/v1/chatbots/${bot.slug}`)).status).toBe(404);
    expect((await onB.post('/api/v1/chat', { chatbotId: bot.id, message: 'Anyone?' })).status).toBe(404);
    expect((await fetch(`${b.url}/api/v1/widget-config?bot=${bot.id}`)).status).toBe(404);
  });
});

describe('the bot read cache on one node without Redis', () => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('One node');
  });
  afterAll(() => t?.stop());

  it('serves reads from the cache and drops the entry on every write path', async () => {
    const bot = (await org.api.post<Bot>('/api/v1/chatbots', { name: 'Local bot' })).body.data;
    const name = async () => (await org.api.get<Bot>(`/api/v1/chatbots/${bot.id}`)).body.data.name;
    expect(await name()).toBe('Local bot');
    await rawRename(t.connection, bot.id, 'Behind the app');
    expect(await name()).toBe('Local bot');
    await org.api.patch(`/api/v1/chatbots/${bot.id}/widget-settings`, { welcomeMessage: 'Hi' });
    expect(await name()).toBe('Behind the app');

    await rawRename(t.connection, bot.id, 'Behind the app again');
    await org.api.post(`/api/v1/chatbots/${bot.id}/identity-secret`);
    expect(await name()).toBe('Behind the app again');

    expect((await org.api.delete(`/api/v1/chatbots/${bot.id}`)).status).toBe(200);
    expect((await org.api.get(`/api/v1/chatbots/${bot.id}`)).status).toBe(404);
  });

  it("another organization's bot stays not found, cached or not", async () => {
    const bot = (await org.api.post<Bot>('/api/v1/chatbots', { name: 'Mine' })).body.data;
    expect((await org.api.get(`/api/v1/chatbots/${bot.id}`)).status).toBe(200);
    const other = await t.createOrg('Other');
    expect((await other.api.get(`/api/v1/chatbots/${bot.id}`)).status).toBe(404);
    expect((await other.api.get(`/api/v1/chatbots/${bot.slug}`)).status).toBe(404);
  });
});
