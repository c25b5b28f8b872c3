import type { ChildProcess } from 'node:child_process';
import type { Connection } from 'mongoose';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RetrievalPreviewDto } from '../../shared/schemas/sources.js';
import { startApp, type RunningApp } from '../app.js';
import { connectMongo } from '../db/mongo.js';
import { ApiClient } from '../test/api-client.js';
import { hasRedis, startRedis } from '../test/redis-server.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { addSource, createBot, FAST_QUEUE_ENV, waitForSource } from './test/knowledge-client.js';

const RETURNS = 'Returns are accepted within 30 days of delivery. Refunds reach the original card within five days.';

/**
 * Node B hears of a bump on A through Redis pub/sub: within milliseconds, but not necessarily before A has
 * answered. Two seconds is below the cached version's 5 s expiry, so a check that passes in time proves the
 * invalidation, not the expiry.
 */
const onceBHears = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: 2_000, interval: 20 });

describe.skipIf(!hasRedis)("a bot's cached knowledge version across two nodes on one Redis", () => {
  let redis: ChildProcess;
  let a: TestApp;
  let b: RunningApp;
  let bConnection: Connection;
  let org: TestOrg;
  let onB: ApiClient;

  beforeAll(async () => {
    const started = await startRedis();
    redis = started.process;
    a = await startTestApp({ env: { ...FAST_QUEUE_ENV, REDIS_URL: started.url } });
    bConnection = await connectMongo(inject('mongoUri'), { dbName: a.connection.name });
    b = await startApp({
      config: a.config,
      logger: pino({ level: 'silent' }),
      connection: bConnection,
      embeddedDatabase: true,
    });
    // Node A processes every source, so node B learns of the new chunks only through the invalidation.
    await b.services.knowledge.stop();
    org = await a.createOrg('Two nodes');
    onB = new ApiClient(b.url, org.adminKey);
  });
  afterAll(async () => {
    await b?.stop(0);
    await bConnection?.close();
    await a?.stop();
    redis?.kill('SIGTERM');
  });

  it('a source made ready and then deleted on node A is searched, then not, by the next questions on node B', async () => {
    const botId = await createBot(org.api);
    const sourcesOnB = async () => {
      const res = await onB.post<RetrievalPreviewDto>(`/api/v1/chatbots/${botId}/retrieval-preview`, {
        query: 'How long do refunds take?',
      });
      expect(res.status).toBe(200);
      return [...new Set(res.body.data.passages.map((passage) => passage.sourceId))];
    };
    // B builds the bot's (empty) index and caches its version.
    expect(await sourcesOnB()).toEqual([]);

    const source = await addSource(org.api, botId, { type: 'text', title: 'Returns', content: RETURNS });
    expect((await waitForSource(org.api, source.id)).status).toBe('ready');
    await onceBHears(sourcesOnB).toEqual([source.id]);

    expect((await org.api.delete(`/api/v1/sources/${source.id}`)).status).toBe(200);
    await onceBHears(sourcesOnB).toEqual([]);
  });
});
