/**
 * API spine bench: requests/s and p50/p99 latency of an authenticated
 * `GET /api/v1/chatbots/:id` through the real app and the embedded database, next to a
 * bare Express route answering the same bytes (the same object through `res.json`), in the
 * same run on the same machine, alternating in rounds so that changes in the machine's load
 * weigh on both. The load generator (autocannon) runs in its own process so it does not share
 * the servers' event loop; the bench's process (both servers) is measured in CPU time per request.
 *
 * BENCH_LIMITS=counted (default): the per-key limits are enforced at a billion a window, so every
 * request is counted and carries its RateLimit headers, as clients meet them; `lifted` sets them to 0
 * (not counted at all), the condition of the figures before issue 14's spine work.
 * BENCH_LOG_LEVEL: the production logger's level (default silent; `info` writes the request lines to /dev/null).
 * Run: npx tsx bench/api-spine.bench.ts
 */
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import express from 'express';
import { pino } from 'pino';
import { startEmbeddedDb } from '../server/db/embedded-db.js';
import { createLogger } from '../server/logger.js';
import { driveFromProcess, startBenchApp, type LoadFigures } from './bench-app.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const LIMITS = process.env.BENCH_LIMITS ?? 'counted';
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'silent';

interface Figures extends LoadFigures {
  /** CPU time of the bench's process (where both servers run) per request, in µs. */
  cpuPerRequest: number;
}

/** Drives `url` for DURATION_S seconds from a separate autocannon process, with this process's CPU time meanwhile. */
async function drive(url: string, headers: Record<string, string> = {}): Promise<Figures> {
  const cpuBefore = process.cpuUsage();
  const load = await driveFromProcess(url, { connections: CONNECTIONS, durationS: DURATION_S, headers });
  const cpu = process.cpuUsage(cpuBefore);
  return { ...load, cpuPerRequest: (cpu.user + cpu.system) / Math.max(1, load.total) };
}

/** A bare Express app whose one route answers `body` as the API does: `res.json` of the same object. */
async function startBareExpress(body: unknown) {
  const bare = express();
  bare.get('/ping', (_req, res) => {
    res.json(body);
  });
  const server = bare.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function main() {
  const limitEnv: Record<string, string> = {};
  for (const plan of ['FREE', 'PRO', 'ENTERPRISE']) {
    for (const window of ['PER_MINUTE', 'PER_SECOND']) {
      limitEnv[`RATE_LIMIT_${plan}_${window}`] = LIMITS === 'lifted' ? '0' : '1000000000';
    }
  }
  const db = await startEmbeddedDb();
  const { app, org, bot, stop } = await startBenchApp({
    dbUri: db.uri,
    dbName: 'wisp_bench_api_spine',
    env: { NODE_ENV: 'production', ...limitEnv },
    allowedOrigins: ['https://bench.example'],
    // The production logger (its redaction included), writing to /dev/null.
    logger: createLogger(LOG_LEVEL, pino.destination({ dest: '/dev/null', sync: false })),
  });
  const apiUrl = `${app.url}/api/v1/chatbots/${bot.id}`;
  const auth = { authorization: `Bearer ${org.adminKey}` };
  const check = await fetch(apiUrl, { headers: auth });
  if (check.status !== 200) throw new Error(`warm-up request answered ${check.status}`);
  const apiBytes = await check.text();
  const counted = check.headers.get('ratelimit');
  if ((LIMITS === 'lifted') !== (counted === null)) throw new Error(`RateLimit header: ${counted}`);
  const bare = await startBareExpress(JSON.parse(apiBytes));
  const bareBytes = await (await fetch(`${bare.url}/ping`)).text();
  if (bareBytes !== apiBytes) throw new Error('the bare route does not answer the same bytes as the API route');

  const loadBefore = loadavg()[0]!;
  const rounds: Array<{ bare: Figures; api: Figures }> = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    // Alternate which goes first, so a change in the machine's load does not always favour one side.
    if (round % 2 === 0) {
      const bareFigures = await drive(`${bare.url}/ping`);
      rounds.push({ bare: bareFigures, api: await drive(apiUrl, auth) });
    } else {
      const apiFigures = await drive(apiUrl, auth);
      rounds.push({ bare: await drive(`${bare.url}/ping`), api: apiFigures });
    }
  }
  const loadAfter = loadavg()[0]!;

  await stop();
  await new Promise((resolve) => bare.server.close(resolve));
  await db.stop();

  const row = (name: string, f: Figures) =>
    `| ${name} | ${Math.round(f.requestsPerSecond)} | ${f.p50} ms | ${f.p99} ms | ${Math.round(f.cpuPerRequest)} µs | ${f.errors + f.non2xx} |`;
  console.log(
    `API spine bench: ${CONNECTIONS} connections, ${ROUNDS} rounds of ${DURATION_S} s per route, limits ${LIMITS}, log ${LOG_LEVEL}, Node ${process.version},`,
  );
  console.log(`${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB`);
  console.log(`load average (1 min) ${loadBefore.toFixed(1)} before the rounds, ${loadAfter.toFixed(1)} after`);
  console.log(`${apiBytes.length}-byte body on both routes`);
  console.log('');
  console.log('| round | route | requests/s | p50 | p99 | server CPU per request | errors + non-2xx |');
  console.log('|---|---|---|---|---|---|---|');
  rounds.forEach(({ bare: b, api: a }, i) => {
    console.log(`| ${i + 1} ${row('bare Express `GET /ping`', b)}`);
    console.log(`| ${i + 1} ${row('authenticated `GET /api/v1/chatbots/:id`', a)}`);
  });
  const ratios = rounds.map(({ bare: b, api: a }) => a.requestsPerSecond / b.requestsPerSecond);
  console.log('');
  console.log(`ratio per round: ${ratios.map((r) => r.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)}`);
  console.log(
    `server CPU per request, median: bare ${Math.round(median(rounds.map((r) => r.bare.cpuPerRequest)))} µs, API ${Math.round(median(rounds.map((r) => r.api.cpuPerRequest)))} µs`,
  );
}

await main();
