import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SourceDto } from '../../shared/schemas/sources.js';
import { connectMongo } from '../db/mongo.js';
import { ApiClient } from '../test/api-client.js';
import { commandsDuring } from '../test/test-app.js';
import { startAppOnDatabase, type AppOnDatabase } from './test/app-on-database.js';
import { addSource, createBot, FAST_QUEUE_ENV, waitForSource } from './test/knowledge-client.js';
import { htmlPage, startTestSite, type TestSite } from './test/test-site.js';

const ENV = {
  ...FAST_QUEUE_ENV,
  ALLOW_PRIVATE_URLS: 'true',
  KNOWLEDGE_JOB_CONCURRENCY: '4',
  KNOWLEDGE_JOB_LEASE_MS: '900',
  KNOWLEDGE_JOB_MAX_ATTEMPTS: '3',
  KNOWLEDGE_FETCH_TIMEOUT_MS: '5000',
};

const slowPage = (n: number) => ({
  delayMs: 1_200,
  body: htmlPage(`Slow page ${n}`, [
    {
      heading: `Topic ${n}`,
      paragraphs: [
        `Page ${n} explains topic ${n} at length so that the reader view keeps it as the article body of the page.`,
        `The secret number of page ${n} is ${n * 111}.`,
      ],
    },
  ]),
});

/** Every chunk of a source belongs to one run, and positions are not repeated. */
async function expectOneChunkSet(running: AppOnDatabase, source: SourceDto) {
  const chunks = await running.app.models.Chunk.find({ sourceId: new Types.ObjectId(source.id) }).lean();
  expect(new Set(chunks.map((c) => c.run)).size).toBe(1);
  expect(new Set(chunks.map((c) => c.position)).size).toBe(chunks.length);
  expect(chunks.length).toBe(source.counts.chunks);
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}

describe('the knowledge job queue', () => {
  let site: TestSite;
  const running: AppOnDatabase[] = [];

  beforeAll(async () => {
    site = await startTestSite(Object.fromEntries([1, 2, 3, 4, 5].map((n) => [`/slow/${n}`, slowPage(n)])));
  });
  afterAll(async () => {
    for (const item of running) await item.stop().catch(() => undefined);
    await site.stop();
  });

  async function start(dbName: string, env: Record<string, string> = {}) {
    const started = await startAppOnDatabase(dbName, { ...ENV, ...env });
    running.push(started);
    return started;
  }

  it('finishes jobs that were processing when the server restarted, with exactly one set of chunks each', async () => {
    const dbName = `wisp_test_restart_${randomUUID().slice(0, 8)}`;
    // The restart hands the jobs back, so no lease needs to lapse here; a longer one keeps a loaded machine's
    // late renewal (one 900 ms lease is three renewals) from letting a second worker fetch a page again.
    const lease = { KNOWLEDGE_JOB_LEASE_MS: '5000' };
    const first = await start(dbName, lease);
    const org = await first.app.services.organizations.create('Restart org');
    const api = new ApiClient(first.app.url, org.adminKey);
    const bot = await createBot(api);
    const sources = await Promise.all(
      [1, 2, 3].map((n) => addSource(api, bot, { type: 'url', url: `${site.url}/slow/${n}` })),
    );
    await Promise.all(sources.map((source) => waitForSource(api, source.id, ['processing'])));
    await first.stop();
    running.splice(running.indexOf(first), 1);

    const second = await start(dbName, lease);
    const api2 = new ApiClient(second.app.url, org.adminKey);
    const done = await Promise.all(sources.map((source) => waitForSource(api2, source.id)));
    for (const source of done) {
      expect(source.status).toBe('ready');
      await expectOneChunkSet(second, source);
    }
    // Each page was fetched at most once before the restart (cut off; a job may be claimed before its
    // request leaves) and exactly once after, to completion.
    for (const n of [1, 2, 3]) {
      const fetches = site.requests.filter((r) => r.path === `/slow/${n}`).length;
      expect(fetches).toBeGreaterThanOrEqual(1);
      expect(fetches).toBeLessThanOrEqual(2);
    }
    const jobs = await second.app.models.KnowledgeJob.find({ chatbotId: new Types.ObjectId(bot) }).lean();
    expect(jobs.map((job) => job.status)).toEqual(['done', 'done', 'done']);
    // Handing a job back on shutdown does not spend one of its attempts.
    expect(jobs.every((job) => job.attempts === 1)).toBe(true);
    const found = await second.app.services.knowledge.retriever.retrieve(
      { chatbotId: bot, organizationId: org.id },
      'Which page has the secret number 222?',
    );
    expect(found.passages[0]?.sourceId).toBe(sources[1]?.id);
  });

  it('retakes a job whose worker died holding its lease, and drops what that worker wrote', async () => {
    const dbName = `wisp_test_crash_${randomUUID().slice(0, 8)}`;
    const app = await start(dbName);
    const org = await app.app.services.organizations.create('Crash org');
    const api = new ApiClient(app.app.url, org.adminKey);
    const bot = await createBot(api);
    const source = await addSource(api, bot, { type: 'url', url: `${site.url}/slow/4` });
    await waitForSource(api, source.id, ['processing']);
    const sourceId = new Types.ObjectId(source.id);
    // Another process claims the job and dies after writing part of its chunks.
    await app.app.models.KnowledgeJob.updateOne(
      { sourceId },
      { $set: { lockToken: 'dead-worker', lockedUntil: new Date(Date.now() + 600) } },
    );
    await app.app.models.Chunk.create({
      organizationId: new Types.ObjectId(org.id),
      chatbotId: new Types.ObjectId(bot),
      sourceId,
      run: 'dead-run',
      position: 0,
      title: 'partial',
      text: 'half-written leftovers',
      tokens: 4,
    });
    const done = await waitForSource(api, source.id);
    expect(done.status).toBe('ready');
    await expectOneChunkSet(app, done);
    expect(await app.app.models.Chunk.countDocuments({ sourceId, run: 'dead-run' })).toBe(0);
    const job = await app.app.models.KnowledgeJob.findOne({ sourceId }).lean();
    expect(job).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('completes without rerunning a job whose source finished just before its worker stopped', async () => {
    const dbName = `wisp_test_finished_${randomUUID().slice(0, 8)}`;
    const app = await start(dbName);
    const org = await app.app.services.organizations.create('Finished org');
    const api = new ApiClient(app.app.url, org.adminKey);
    const bot = await createBot(api);
    const source = await addSource(api, bot, { type: 'url', url: `${site.url}/slow/5` });
    const ready = await waitForSource(api, source.id);
    const sourceId = new Types.ObjectId(source.id);
    const chunkIds = (await app.app.models.Chunk.find({ sourceId }, { _id: 1 }).lean()).map((c) => c._id.toString());
    const fetches = site.requests.filter((r) => r.path === '/slow/5').length;
    // The job's own completion was never written: it looks claimed by a worker whose lease ran out.
    await app.app.models.KnowledgeJob.updateOne(
      { sourceId },
      { $set: { status: 'running', lockToken: 'gone', lockedUntil: new Date(Date.now() - 1) } },
    );
    app.app.services.knowledge.queue.notify();
    await waitUntil(async () => (await app.app.models.KnowledgeJob.findOne({ sourceId }).lean())?.status === 'done');
    expect(site.requests.filter((r) => r.path === '/slow/5').length).toBe(fetches);
    const after = (await app.app.models.Chunk.find({ sourceId }, { _id: 1 }).lean()).map((c) => c._id.toString());
    expect(after).toEqual(chunkIds);
    expect((await waitForSource(api, source.id)).readyAt).toBe(ready.readyAt);
  });

  it('re-queues a source that was written without its job', async () => {
    const dbName = `wisp_test_orphan_${randomUUID().slice(0, 8)}`;
    const first = await start(dbName);
    const org = await first.app.services.organizations.create('Orphan org');
    const api = new ApiClient(first.app.url, org.adminKey);
    const bot = await createBot(api);
    const source = await addSource(api, bot, { type: 'text', title: 'Orphan', content: 'Orphaned facts.' });
    await waitForSource(api, source.id);
    await first.stop();
    running.splice(running.indexOf(first), 1);
    // As if the process died between writing the source and queuing its job.
    const connection = await connectMongo(inject('mongoUri'), { dbName });
    await connection
      .collection('sources')
      .updateOne({ _id: new Types.ObjectId(source.id) }, { $set: { status: 'queued' }, $inc: { revision: 1 } });
    await connection.collection('knowledge_jobs').deleteMany({});
    await connection.close();

    const second = await start(dbName);
    const done = await waitForSource(new ApiClient(second.app.url, org.adminKey), source.id);
    expect(done.status).toBe('ready');
    await expectOneChunkSet(second, done);
  });
  it('skips the chunk-delete scan for a new source, and still deletes for a reindex and for a crashed run', async () => {
    const dbName = `wisp_test_fresh_${randomUUID().slice(0, 8)}`;
    const app = await start(dbName);
    const org = await app.app.services.organizations.create('Fresh org');
    const api = new ApiClient(app.app.url, org.adminKey);
    const bot = await createBot(api);
    const text = '# Fresh\n\nA new source has no chunks of an earlier run to remove.';
    const deletes = (commands: string[]) => commands.filter((command) => command === 'chunks.deleteMany');

    // A new source (never had a run): no delete of the chunks collection.
    let source: SourceDto | undefined;
    const fresh = await commandsDuring(async () => {
      source = await addSource(api, bot, { type: 'text', title: 'Fresh', content: text });
      await waitForSource(api, source.id);
    });
    expect(deletes(fresh)).toEqual([]);
    const sourceId = new Types.ObjectId(source!.id);
    const firstRun = (await app.app.models.Source.findById(sourceId).lean())?.activeRun;

    // A reindex replaces the previous run's chunks.
    const reindexed = await commandsDuring(async () => {
      const res = await api.post<SourceDto>(`/api/v1/sources/${source!.id}/reindex`);
      expect(res.status).toBe(202);
      await waitUntil(async () => {
        const now = await app.app.models.Source.findById(sourceId).lean();
        return now?.status === 'ready' && now.activeRun !== firstRun;
      });
    });
    expect(deletes(reindexed)).toHaveLength(1);
    expect(await app.app.models.Chunk.countDocuments({ sourceId, run: firstRun })).toBe(0);
    await expectOneChunkSet(app, await waitForSource(api, source!.id));

    // A new source whose first run died after writing chunks: the retry is not a new source's and removes them.
    const { models } = app.app;
    const crashed = await models.Source.create({
      organizationId: new Types.ObjectId(org.id),
      chatbotId: new Types.ObjectId(bot),
      type: 'text',
      title: 'Crashed',
      status: 'processing',
      currentRun: 'dead-run',
    });
    await models.SourceContent.create({
      organizationId: crashed.organizationId,
      chatbotId: crashed.chatbotId,
      sourceId: crashed._id,
      text,
    });
    await models.Chunk.create({
      organizationId: crashed.organizationId,
      chatbotId: crashed.chatbotId,
      sourceId: crashed._id,
      run: 'dead-run',
      position: 0,
      title: 'partial',
      text: 'half-written leftovers',
      tokens: 4,
    });
    const retried = await commandsDuring(async () => {
      await app.app.services.knowledge.queue.enqueue(crashed);
      await waitForSource(api, crashed._id.toString());
    });
    expect(deletes(retried)).toHaveLength(1);
    expect(await models.Chunk.countDocuments({ sourceId: crashed._id, run: 'dead-run' })).toBe(0);
    await expectOneChunkSet(app, await waitForSource(api, crashed._id.toString()));
  });
});
