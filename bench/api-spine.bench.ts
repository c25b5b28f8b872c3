/**
 * API spine bench: requests/s and p50/p99 latency of an authenticated
 * `GET /api/v1/chatbots/:id` through the real app and the embedded database, next to a
 * bare Express JSON route, in the same run on the same machine. The load generator
 * (autocannon) runs in its own process so it does not share the servers' event loop.
 * Run: npx tsx bench/api-spine.bench.ts
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { promisify } from 'node:util';
import express from 'express';
import { startEmbeddedDb } from '../server/db/embedded-db.js';
import { startBenchApp } from './bench-app.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

interface Figures {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** Drives `url` for DURATION_S seconds from a separate autocannon process and reads its JSON summary. */
async function drive(url: string, headers: Record<string, string> = {}): Promise<Figures> {
  const args = [AUTOCANNON, '--json', '-c', String(CONNECTIONS), '-d', String(DURATION_S)];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}=${value}`);
  args.push(url);
  const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
  const result = JSON.parse(stdout) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    errors: number;
    non2xx: number;
  };
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

async function startBareExpress() {
  const bare = express();
  bare.get('/ping', (_req, res) => {
    res.json({ data: { ok: true }, error: null });
  });
  const server = bare.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function main() {
  const db = await startEmbeddedDb();
  const { app, org, bot, stop } = await startBenchApp({
    dbUri: db.uri,
    dbName: 'wisp_bench_api_spine',
    env: { NODE_ENV: 'production' },
    allowedOrigins: ['https://bench.example'],
  });
  const bare = await startBareExpress();

  const check = await fetch(`${app.url}/api/v1/chatbots/${bot.id}`, {
    headers: { authorization: `Bearer ${org.adminKey}` },
  });
  if (check.status !== 200) throw new Error(`warm-up request answered ${check.status}`);

  const bareFigures = await drive(`${bare.url}/ping`);
  const apiFigures = await drive(`${app.url}/api/v1/chatbots/${bot.id}`, { authorization: `Bearer ${org.adminKey}` });

  await stop();
  await new Promise((resolve) => bare.server.close(resolve));
  await db.stop();

  const row = (name: string, f: Figures) =>
    `| ${name} | ${Math.round(f.requestsPerSecond)} | ${f.p50} ms | ${f.p99} ms | ${f.errors + f.non2xx} |`;
  console.log(`API spine bench: ${CONNECTIONS} connections, ${DURATION_S} s each, Node ${process.version},`);
  console.log(`${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB`);
  console.log('');
  console.log('| route | requests/s | p50 | p99 | errors + non-2xx |');
  console.log('|---|---|---|---|---|');
  console.log(row('bare Express `GET /ping` (JSON)', bareFigures));
  console.log(row('authenticated `GET /api/v1/chatbots/:id`', apiFigures));
  console.log('');
  console.log(
    `The API route serves ${((apiFigures.requestsPerSecond / bareFigures.requestsPerSecond) * 100).toFixed(0)}% of the bare route's throughput.`,
  );
}

await main();
