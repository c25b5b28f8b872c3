import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../test/api-client.js';
import { startTestApp, type TestApp } from '../test/test-app.js';
import { startEmbeddedDb, type EmbeddedDb } from './embedded-db.js';
import type { DatabaseInfo } from './mongo.js';

interface ReadyBody {
  status: string;
  database: DatabaseInfo;
}

/** Polls `/readyz` until it answers `status`, returning that answer. */
async function waitForReadiness(client: ApiClient, status: number, timeoutMs: number) {
  const started = Date.now();
  for (;;) {
    const res = await client.get<ReadyBody>('/readyz');
    if (res.status === status) return res;
    if (Date.now() - started > timeoutMs) throw new Error(`/readyz stayed ${res.status}, expected ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('the database layer on the shared test database', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('counts 200 concurrent increments of one counter as exactly 200', async () => {
    const org = await t.createOrg('Counting');
    await Promise.all(
      Array.from({ length: 200 }, () => t.app.services.usage.increment(org.id, { messages: 1, promptTokens: 2 })),
    );
    const rows = await t.app.models.Usage.find({ organizationId: org.id }).lean();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ messages: 200, promptTokens: 400 });
  });

  it('has created every collection and every declared index before serving', async () => {
    const db = t.connection.db!;
    const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
    for (const model of t.app.models.all) {
      expect(existing, `collection ${model.collection.name}`).toContain(model.collection.name);
      const indexes = await db.collection(model.collection.name).listIndexes().toArray();
      const byKey = new Map(indexes.map((index) => [JSON.stringify(index.key), index]));
      for (const [fields, options] of model.schema.indexes()) {
        const found = byKey.get(JSON.stringify(fields));
        expect(found, `index ${JSON.stringify(fields)} on ${model.collection.name}`).toBeDefined();
        if (options.unique) expect(found?.unique, `unique ${JSON.stringify(fields)}`).toBe(true);
      }
    }
  });

  it('answers /readyz 200 naming the engine and its version, and /healthz 200', async () => {
    const ready = await t.anonymous.get<ReadyBody>('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.data.status).toBe('ready');
    expect(ready.body.data.database.engine).toMatch(/\S/);
    expect(ready.body.data.database.version).toMatch(/^\d+\.\d+/);
    const health = await t.anonymous.get('/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ data: { status: 'ok' }, error: null });
  });
});

describe('a database that goes away and comes back', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'wisp-blip-'));
  const file = path.join(dataDir, 'wisp.h2');
  let first: EmbeddedDb | null = null;
  let second: EmbeddedDb | null = null;
  let t: TestApp | null = null;

  afterAll(async () => {
    await t?.stop();
    await first?.stop();
    await second?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers /readyz 503 while the database is gone and 200 again once it is back, without a restart', async () => {
    first = await startEmbeddedDb({ file });
    const port = Number(new URL(first.uri).port);
    t = await startTestApp({ mongoUri: first.uri });
    const org = await t.createOrg('Blip');
    const created = await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Before the blip' });
    expect(created.status).toBe(201);
    expect((await t.anonymous.get('/readyz')).status).toBe(200);

    await first.stop();
    first = null;
    const down = await t.anonymous.get('/readyz');
    expect(down.status).toBe(503);
    expect(down.body).toEqual({
      data: null,
      error: { name: 'UnavailableError', message: 'The database is not answering', details: null },
    });
    expect((await t.anonymous.get('/healthz')).status).toBe(200);
    const failedRead = await org.api.get('/api/v1/chatbots');
    expect(failedRead.status).toBe(503);
    expect(failedRead.body.error?.name).toBe('UnavailableError');

    second = await startEmbeddedDb({ file, port });
    const ready = await waitForReadiness(t.anonymous, 200, 20_000);
    expect(ready.body.data).toMatchObject({
      status: 'ready',
      database: { version: expect.stringMatching(/^\d+\.\d+/) },
    });
    // The app's own connection came back by itself: nothing was restarted or reopened.
    expect(t.connection.readyState).toBe(1);
    const bot = await org.api.get<{ name: string }>(`/api/v1/chatbots/${created.body.data.id}`);
    expect(bot.status).toBe(200);
    expect(bot.body.data.name).toBe('Before the blip');
    expect((await org.api.post('/api/v1/chatbots', { name: 'After the blip' })).status).toBe(201);
  }, 60_000);
});
