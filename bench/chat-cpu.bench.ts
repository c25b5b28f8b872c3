/**
 * CPU per JSON chat turn at a fixed concurrency: the app process's and the database JVM's CPU time over a fixed
 * number of turns, and the database round trips per turn. Unlike turns/s, CPU per turn moves little with the
 * machine's load, so two versions can be compared on a shared machine (run it in each work tree, alternating).
 * The requests are sent from this process (they are counted in the app's CPU, the same for every version); the
 * model server runs in its own. Run: npx tsx bench/chat-cpu.bench.ts (`BENCH_TURNS`, default 400;
 * `BENCH_CONCURRENCY`, default 1 and 8; `BENCH_DB_FILE=1` runs the database on an H2 file as the server does).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { processCpuMs, startBenchApp, startModelProcess } from './bench-app.js';
import { startEmbeddedDb } from '../server/db/embedded-db.js';

const TURNS = Number(process.env.BENCH_TURNS ?? 400);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,8').split(',').map(Number);

const model = await startModelProcess();
// BENCH_DB_FILE=1: the H2 file store the server runs on (a commit and fsync after every write).
const dbDir = process.env.BENCH_DB_FILE === '1' ? mkdtempSync(path.join(tmpdir(), 'wisp-bench-chat-cpu-')) : null;
const db = await startEmbeddedDb(dbDir ? { file: path.join(dbDir, 'bench.mv') } : {});
const { app, org, bot, stop, connection } = await startBenchApp({
  dbUri: db.uri,
  dbName: 'wisp_bench_chat_cpu',
  // The database was started here for this one app, as `npm start` starts the embedded engine.
  soleServer: true,
  env: { OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'bench', OPENAI_MODEL: 'fake-chat' },
});
const headers = { authorization: `Bearer ${org.adminKey}`, 'content-type': 'application/json' };
const body = JSON.stringify({ chatbotId: bot.id, message: 'How do I reset my password?' });
const turn = () => fetch(`${app.url}/api/v1/chat`, { method: 'POST', headers, body }).then((res) => res.text());
for (let i = 0; i < 30; i += 1) await turn();

for (const concurrency of CONCURRENCY) {
  // Writes after the previous answers (counters, analytics) settle first.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  let roundTrips = 0;
  connection.set('debug', () => void (roundTrips += 1));
  const loadAtStart = loadavg()[0]!;
  const cpuBefore = process.cpuUsage();
  const dbCpuBefore = processCpuMs(db.pid);
  const started = performance.now();
  let left = TURNS;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await turn();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const dbCpuMs = processCpuMs(db.pid) - dbCpuBefore;
  connection.set('debug', false);
  console.log(
    `${concurrency} at a time, ${TURNS} turns: app CPU ${((cpu.user + cpu.system) / 1000 / TURNS).toFixed(2)} ms per turn, database JVM ${(dbCpuMs / TURNS).toFixed(2)} ms, ${(roundTrips / TURNS).toFixed(2)} round trips; ${(TURNS / seconds).toFixed(1)} turns/s (load average ${loadAtStart.toFixed(1)} at the start)`,
  );
}

await stop();
await db.stop();
await model.stop();
if (dbDir) rmSync(dbDir, { recursive: true, force: true });
