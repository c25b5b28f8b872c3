/**
 * The embedded database's cost of an update with many dotted paths: the analytics day documents' `$inc`
 * (`server/analytics/contribution.ts` `addToUpdates`: `s.q37.api.n.answers` and the like, about twenty paths three to
 * five deep per turn), the one write every chat turn makes to a nested document. Per update: the database JVM's CPU
 * and the median time of a 16-update `bulkWrite`, as the turn's batches send them. With `BENCH_BASELINE_JAR` (another
 * build of the launcher, e.g. main's) both launchers run side by side and are driven alternately, round by round, on
 * the same updates, so a noisy machine weighs on both alike.
 * Run: npx tsx bench/dotted-update.bench.ts (`BENCH_ROUNDS`, default 10; `BENCH_UPDATES`, updates per round, default
 * 2000; `BENCH_QUARTERS`, the quarter hours the updates spread over, default 96, a whole day: 1 keeps the documents as
 * small as the chat bench's).
 */
import { loadavg } from 'node:os';
import { MongoClient, ObjectId, type AnyBulkWriteOperation, type Document } from 'mongodb';
import { addToUpdates, type Contribution, type DayUpdate } from '../server/analytics/contribution.js';
import { dayWrite } from '../server/analytics/rollup-writer.js';
import { EMBEDDED_DB_JAR, startEmbeddedDb, type EmbeddedDb } from '../server/db/embedded-db.js';
import { processCpuMs } from './bench-app.js';
import { percentile } from './percentile.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const UPDATES = Number(process.env.BENCH_UPDATES ?? 2000);
const BATCH = 16;
const QUARTERS = Number(process.env.BENCH_QUARTERS ?? 96);
const SHARDS = 16;
const JARS: Array<[string, string]> = [['this build', EMBEDDED_DB_JAR]];
if (process.env.BENCH_BASELINE_JAR) JARS.unshift(['baseline', process.env.BENCH_BASELINE_JAR]);

const bot = { organizationId: new ObjectId(), chatbotId: new ObjectId() };
const hex = (n: number) => n.toString(16).padStart(12, '0');

/** What one answered turn adds to its day: its question (and conversation) and its answer, as the app counts them. */
function turnContributions(i: number): Contribution[] {
  // Forty turns a quarter hour, over the day's first QUARTERS quarters: the documents grow as a day's do.
  const q = Math.floor(i / 40) % QUARTERS;
  const k = i % SHARDS;
  const base = { u: new Date(1_700_000_000_000 + i).toISOString(), d: '2026-12-03', q, k, ch: 'api' };
  const question = hex(i % 5);
  return [
    {
      ...base,
      n: { conversations: 1, visitorMessages: 1 },
      vis: hex(i % 20),
      qs: [question, `q ${question}`, `Q ${question}?`, base.u],
    },
    {
      ...base,
      n: { answers: 1, answered: 1, promptTokens: 180, completionTokens: 40 },
      lat: 20 + (i % 7) * 10,
      src: [
        [hex(i % 11), `source-${i % 11}`, `Source ${i % 11}`, null],
        [hex(100 + (i % 5)), `source-${100 + (i % 5)}`, `Source ${100 + (i % 5)}`, null],
      ],
    },
  ] as unknown as Contribution[];
}

/** A turn's day write, as the app's `RollupWriter.writeDays` sends it. */
function turnWrite(i: number): AnyBulkWriteOperation<Document> {
  const updates = new Map<string, DayUpdate>();
  for (const contribution of turnContributions(i)) addToUpdates(updates, contribution, 1);
  // One visitor's turn: one shard, one day, so one document.
  const [doc, update] = [...updates][0]!;
  return dayWrite(bot, doc, update);
}

interface Launcher {
  name: string;
  db: EmbeddedDb;
  client: MongoClient;
  cpuMs: number;
  batchesMs: number[];
  updates: number;
}

async function main() {
  const loadAtStart = loadavg()[0]!;
  const launchers: Launcher[] = [];
  for (const [name, jar] of JARS) {
    const db = await startEmbeddedDb({ jar });
    const client = await new MongoClient(db.uri).connect();
    await client.db('bench').collection('analytics_days').createIndex({ key: 1 }, { unique: true });
    launchers.push({ name, db, client, cpuMs: 0, batchesMs: [], updates: 0 });
  }
  const paths = Object.keys((turnWrite(0) as { updateOne: { update: { $inc: object } } }).updateOne.update.$inc).length;
  let next = 0;
  for (let round = 0; round < ROUNDS; round += 1) {
    const from = next;
    next += UPDATES;
    for (const launcher of launchers) {
      const days = launcher.client.db('bench').collection('analytics_days');
      const cpuBefore = processCpuMs(launcher.db.pid);
      for (let i = from; i < from + UPDATES; i += BATCH) {
        const started = performance.now();
        await days.bulkWrite(
          Array.from({ length: BATCH }, (_, j) => turnWrite(i + j)),
          { ordered: false },
        );
        if (round > 0) launcher.batchesMs.push(performance.now() - started);
      }
      // The first round compiles the JVM's paths: measured from the second on.
      if (round > 0) {
        launcher.cpuMs += processCpuMs(launcher.db.pid) - cpuBefore;
        launcher.updates += UPDATES;
      }
    }
  }
  console.log(
    `Dotted-path updates (analytics days: ${paths} paths in a turn's $inc, ${SHARDS} shard documents, batches of ${BATCH}; ${ROUNDS - 1} measured rounds of ${UPDATES} updates after one unmeasured; load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end)`,
  );
  console.log('| launcher | database JVM CPU per update | bulkWrite of 16, p50 / p99 |');
  console.log('|---|---|---|');
  for (const launcher of launchers) {
    console.log(
      `| ${launcher.name} | ${((launcher.cpuMs / launcher.updates) * 1000).toFixed(0)} µs | ${percentile(launcher.batchesMs, 50).toFixed(2)} / ${percentile(launcher.batchesMs, 99).toFixed(2)} ms |`,
    );
  }
  for (const launcher of launchers) {
    await launcher.client.close();
    await launcher.db.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
