/**
 * The embedded database on an H2 file, as `npm start` runs it: how long a write waits for its acknowledgement (a
 * commit and fsync of whole commands, see `embedded-db/`) alone, beside concurrent writers, and while long reads
 * (an aggregate over 40k documents, back to back) run on another connection. With `BENCH_BASELINE_JAR` (another
 * build of the launcher, e.g. main's) both launchers are measured in the same run, alternately.
 * Run: npx tsx bench/embedded-db-writes.bench.ts (`BENCH_SECONDS` per case, default 5; `BENCH_ROUNDS`, default 2).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient, type Collection } from 'mongodb';
import { EMBEDDED_DB_JAR, startEmbeddedDb } from '../server/db/embedded-db.js';
import { processCpuMs } from './bench-app.js';
import { percentile } from './percentile.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const JARS: Array<[string, string]> = [['this build', EMBEDDED_DB_JAR]];
if (process.env.BENCH_BASELINE_JAR) JARS.unshift(['baseline', process.env.BENCH_BASELINE_JAR]);

/** Upserts on a small collection one after another for `SECONDS`: each one's latency, in ms. */
async function timedUpserts(small: Collection, key: (i: number) => number): Promise<number[]> {
  const latencies: number[] = [];
  const until = performance.now() + SECONDS * 1000;
  while (performance.now() < until) {
    const started = performance.now();
    await small.updateOne({ k: key(latencies.length) }, { $inc: { c: 1 } }, { upsert: true });
    latencies.push(performance.now() - started);
  }
  return latencies;
}

const latencySummary = (latencies: number[]) =>
  `${latencies.length} writes, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${percentile(latencies, 100).toFixed(1)} ms`;

async function measure(label: string, jar: string): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'wisp-bench-db-writes-'));
  const db = await startEmbeddedDb({ file: path.join(dir, 'data.mv'), jar });
  const client = await MongoClient.connect(db.uri, { maxPoolSize: 16 });
  try {
    const database = client.db('bench');
    const big = database.collection('big');
    for (let i = 0; i < 40; i += 1) {
      await big.insertMany(
        Array.from({ length: 1000 }, (_, j) => ({ n: i * 1000 + j, group: j % 10, pad: 'p'.repeat(100) })),
      );
    }
    const small = database.collection('small');
    await small.createIndex({ k: 1 }, { unique: true });
    const cpuBefore = processCpuMs(db.pid!);

    const alone = await timedUpserts(small, (i) => i % 50);

    // Eight writers on keys of their own; the first one's latencies are reported, all of them counted.
    let others = 0;
    let stopOthers = false;
    const writers = Array.from({ length: 7 }, async (_, w) => {
      for (let i = 0; !stopOthers; i += 1) {
        await small.updateOne({ k: 1000 + w * 100 + (i % 100) }, { $inc: { c: 1 } }, { upsert: true });
        others += 1;
      }
    });
    const beside = await timedUpserts(small, (i) => i % 50);
    stopOthers = true;
    await Promise.all(writers);

    let stopReads = false;
    const readTimes: number[] = [];
    const reader = (async () => {
      while (!stopReads) {
        const started = performance.now();
        await big.aggregate([{ $group: { _id: '$group', sum: { $sum: '$n' } } }]).toArray();
        readTimes.push(performance.now() - started);
      }
    })();
    const duringReads = await timedUpserts(small, (i) => i % 50);
    stopReads = true;
    await reader;
    const cpu = processCpuMs(db.pid!) - cpuBefore;

    console.log(`${label}:`);
    console.log(`  alone: ${latencySummary(alone)}`);
    console.log(
      `  beside 7 other writers: ${latencySummary(beside)}; all 8: ${((beside.length + others) / SECONDS).toFixed(0)} writes/s`,
    );
    console.log(
      `  during long reads (aggregate p50 ${percentile(readTimes, 50).toFixed(1)} ms, ${readTimes.length} of them): ${latencySummary(duringReads)}`,
    );
    console.log(`  database JVM CPU over the three: ${(cpu / 1000).toFixed(1)} s`);
  } finally {
    await client.close();
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `Embedded database writes on an H2 file (${SECONDS} s a case, ${ROUNDS} round${ROUNDS === 1 ? '' : 's'}, load average ${loadavg()[0]!.toFixed(2)} at the start)`,
);
for (let round = 1; round <= ROUNDS; round += 1) {
  for (const [label, jar] of JARS) await measure(`${label}, round ${round}`, jar);
}
