/**
 * CPU per JSON chat turn at a fixed concurrency: the app process's and the database JVM's CPU time over a fixed
 * number of turns, and the database round trips per turn. Unlike turns/s, CPU per turn moves little with the
 * machine's load, so two versions can be compared on a shared machine (run it in each work tree, alternating).
 * The requests are sent from this process (they are counted in the app's CPU, the same for every version); the
 * model server runs in its own. Run: npx tsx bench/chat-cpu.bench.ts (`BENCH_TURNS`, default 400;
 * `BENCH_CONCURRENCY`, default 1 and 8; `BENCH_DB_FILE=1` runs the database on an H2 file as the server does;
 * `BENCH_DB_JAR` runs another build of the launcher, e.g. main's, to alternate two in one session).
 */
import { loadavg } from 'node:os';
import { processCpuMs, startChatBench } from './bench-app.js';

const TURNS = Number(process.env.BENCH_TURNS ?? 400);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,8').split(',').map(Number);

const { db, connection, turn, stop } = await startChatBench('chat-cpu');
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
