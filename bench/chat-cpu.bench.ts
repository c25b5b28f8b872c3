/**
 * CPU per JSON chat turn at a fixed concurrency: the app process's and the database JVM's CPU time over a fixed
 * number of turns, and the database round trips per turn. Unlike turns/s, CPU per turn moves little with the
 * machine's load, so two versions can be compared on a shared machine (run it in each work tree, alternating).
 * The requests are sent from this process (they are counted in the app's CPU, the same for every version); the
 * model server runs in its own. Run: npx tsx bench/chat-cpu.bench.ts (`BENCH_TURNS`, default 400;
 * `BENCH_CONCURRENCY`, default 1 and 8).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { startBenchApp } from './bench-app.js';
import { startEmbeddedDb } from '../server/db/embedded-db.js';

const TURNS = Number(process.env.BENCH_TURNS ?? 400);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,8').split(',').map(Number);
const require = createRequire(import.meta.url);
const TSX = require.resolve('tsx');

/** CPU time (user + system, ms) a process has used so far, from /proc. */
function processCpuMs(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** The test model server in a process of its own; resolves with its base URL and the process. */
async function startModelProcess() {
  const child = spawn(process.execPath, ['--import', TSX, 'scripts/fake-llm.ts'], {
    env: { ...process.env, FAKE_LLM_PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const found = /fake LLM at (\S+)/.exec(seen);
      if (found) resolve(found[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the model server exited (${code}) before listening`)));
  });
  return { url, child };
}

const model = await startModelProcess();
const db = await startEmbeddedDb({});
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
model.child.kill('SIGTERM');
