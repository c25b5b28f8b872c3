import path from 'node:path';
import mongoose, { Types, type Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEmbeddedUri } from '../server/db/embedded-uri-file.js';
import { waitUntilGone } from '../server/test/server-process.js';
import { waitFor, WispServer } from './support/wisp-server.js';

const BATCHES = 3;
const PER_BATCH = 60;
const TOTAL = BATCHES * PER_BATCH;

const documentOf = (n: number) =>
  [
    `# Manual ${n}`,
    ...[1, 2, 3].map(
      (s) =>
        `## Chapter ${s}\n\nManual ${n} chapter ${s}. ${'Steady filler sentences keep the chapter long. '.repeat(14)}`,
    ),
  ].join('\n\n');

describe('kill -9 of the server while batches of sources are processed', () => {
  let wisp: WispServer;
  let db: Connection | null = null;

  beforeAll(() => {
    // A killed worker's leases run out soon after the restart.
    wisp = new WispServer({ KNOWLEDGE_JOB_LEASE_MS: '2000', KNOWLEDGE_JOB_POLL_MS: '100' });
  });
  afterAll(async () => {
    await db?.close();
    await wisp.dispose();
  });

  /** Read from the database itself: polling the API would run into the key's rate limit. */
  const database = async () => {
    db ??= await mongoose.createConnection(readEmbeddedUri(path.join(wisp.dataDir, 'data'))!).asPromise();
    return db;
  };
  let bot: { chatbotId: Types.ObjectId } = { chatbotId: new Types.ObjectId() };
  const readyCount = async () => (await database()).collection('sources').countDocuments({ ...bot, status: 'ready' });

  it('finishes every accepted source after the restart with exactly its own chunks, none lost or doubled', async () => {
    await wisp.start();
    const chatbotId = await wisp.createBot('Manuals');
    bot = { chatbotId: new Types.ObjectId(chatbotId) };
    const accepted: string[] = [];
    for (let b = 0; b < BATCHES; b += 1) {
      const sources = Array.from({ length: PER_BATCH }, (_, i) => {
        const n = b * PER_BATCH + i;
        return { type: 'text', title: `Manual ${n}`, content: documentOf(n) };
      });
      const res = await wisp.api.post<Array<{ id: string }>>(`/api/v1/chatbots/${chatbotId}/sources/batch`, {
        sources,
      });
      expect(res.status, JSON.stringify(res.body.error)).toBe(202);
      accepted.push(...res.body.data.map((source) => source.id));
    }
    // Killed while the workers are part way through: some sources ready, others not.
    const atKill = await waitFor(readyCount, (ready) => ready > 0);
    await db?.close();
    db = null;
    const java = wisp.databasePid();
    wisp.process!.child.kill('SIGKILL');
    await wisp.process!.exited;
    await waitUntilGone(java, 10_000);
    expect(atKill).toBeLessThan(TOTAL);

    await wisp.start();
    await waitFor(readyCount, (ready) => ready === TOTAL, 60_000);
    const sources = await (
      await database()
    )
      .collection('sources')
      .find(bot, { projection: { status: 1, activeRun: 1, chunks: 1 } })
      .toArray();
    expect(sources.map((source) => source._id.toString()).sort()).toEqual([...accepted].sort());
    const chunks = await (
      await database()
    )
      .collection('chunks')
      .find(bot, { projection: { sourceId: 1, run: 1, position: 1 } })
      .toArray();
    const bySource = new Map<string, Array<{ run: string; position: number }>>();
    for (const chunk of chunks) {
      const list = bySource.get(chunk.sourceId.toString()) ?? [];
      list.push({ run: chunk.run as string, position: chunk.position as number });
      bySource.set(chunk.sourceId.toString(), list);
    }
    for (const source of sources) {
      const own = bySource.get(source._id.toString()) ?? [];
      expect(source.status).toBe('ready');
      // Only the active run's chunks: what a cut run wrote was removed, nothing was written twice.
      expect(own.every((chunk) => chunk.run === source.activeRun)).toBe(true);
      expect(new Set(own.map((chunk) => chunk.position)).size).toBe(own.length);
      expect(own.length).toBe(source.chunks);
      expect(own.length).toBeGreaterThanOrEqual(3);
    }
    const jobs = await (await database()).collection('knowledge_jobs').find(bot).toArray();
    expect(jobs).toHaveLength(TOTAL);
    expect(jobs.every((job) => job.status === 'done')).toBe(true);
  });
});
