import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Connection } from 'mongoose';
import { pino, type Logger } from 'pino';
import { startApp, type RunningApp } from '../server/app.js';
import { parseEnv } from '../server/config.js';
import { startEmbeddedDb, type EmbeddedDb } from '../server/db/embedded-db.js';
import { connectMongo } from '../server/db/mongo.js';
import { UNLIMITED_ENV } from '../server/test/unlimited-limits.js';

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
const TSX = createRequire(import.meta.url).resolve('tsx');

/** The secret every bench node signs with, so a visitor token of one node is good on another. */
export const BENCH_SECRET_KEY = 'bench-secret-key-bench-secret-key-0123456789';

export interface BenchApp {
  app: RunningApp;
  connection: Connection;
  org: { id: string; adminKey: string };
  bot: { id: string; slug: string };
  stop(): Promise<void>;
}

/**
 * The real app on a fresh database for a bench: no rate limits or quota in the way,
 * one organization with an admin key and one bot.
 */
export async function startBenchApp(options: {
  dbUri: string;
  dbName: string;
  env?: Record<string, string>;
  logger?: Logger;
  allowedOrigins?: string[];
  /** True when this app is the only server on the bench's database (see `AppDeps.soleServer`). */
  soleServer?: boolean;
}): Promise<BenchApp> {
  const connection = await connectMongo(options.dbUri, { dbName: options.dbName });
  await connection.dropDatabase();
  const config = {
    ...parseEnv({ PORT: '0', LOG_LEVEL: 'silent', ...UNLIMITED_ENV, ...options.env }),
    SECRET_KEY: BENCH_SECRET_KEY,
  };
  const app = await startApp({
    config,
    logger: options.logger ?? pino({ level: 'silent' }),
    connection,
    embeddedDatabase: true,
    soleServer: options.soleServer,
  });
  const org = await app.services.organizations.create('Bench');
  const bot = await app.services.chatbots.create(org.id, {
    name: 'Bench bot',
    instructions: 'Be brief.',
    modelSettings: { integrationId: null, model: null, temperature: 0.3, maxTokens: 800 },
    allowedOrigins: options.allowedOrigins ?? [],
    status: 'active',
  });
  return {
    app,
    connection,
    org,
    bot,
    stop: async () => {
      await app.stop(0);
      await connection.dropDatabase();
      await connection.close();
    },
  };
}

/** What one autocannon run measured. */
export interface LoadFigures {
  /** Requests answered in the whole run. */
  total: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/**
 * Drives `url` from a separate autocannon process, so the load generator shares neither this process's event
 * loop nor its CPU time, and reads its JSON summary.
 */
export async function driveFromProcess(
  url: string,
  options: {
    connections: number;
    durationS: number;
    headers?: Record<string, string>;
    /** A POST of this body; a GET without it. */
    body?: string;
    /** Each request's `[<id>]` in the body replaced by a new random id (autocannon's `-I`). */
    idReplacement?: boolean;
  },
): Promise<LoadFigures> {
  const args = [AUTOCANNON, '--json', '-c', String(options.connections), '-d', String(options.durationS)];
  if (options.body !== undefined) args.push('-m', 'POST', '-b', options.body);
  if (options.idReplacement) args.push('-I');
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}=${value}`);
  args.push(url);
  const { stdout } = await promisify(execFile)(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
  const result = JSON.parse(stdout) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    errors: number;
    non2xx: number;
  };
  return {
    total: result.requests.total,
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

/** The test model server in a process of its own; resolves with its base URL once it listens. */
export async function startModelProcess(): Promise<{ url: string; stop(): Promise<void> }> {
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
  return {
    url,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** CPU time (user + system, ms) a process has used so far, from /proc; NaN where /proc is missing. */
export function processCpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) ".
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** What the chat benches drive: the app, its own embedded database and the model server, and one JSON turn. */
export interface ChatBench extends BenchApp {
  db: EmbeddedDb;
  model: { url: string };
  /** True when the database runs on an H2 file (`BENCH_DB_FILE=1`). */
  onFile: boolean;
  /** The admin key's headers of a JSON request, and the body of the question every turn asks. */
  headers: Record<string, string>;
  question: string;
  /** One JSON chat turn with that question, resolved once its answer is read. */
  turn(): Promise<string>;
}

/**
 * The chat benches' setup: the model server in its own process, an embedded database started here (on an H2
 * file with a commit and fsync after every write, as the server runs, with `BENCH_DB_FILE=1`; else in memory)
 * and the app on it as its sole server, as `npm start` runs. `stop` ends all three.
 */
export async function startChatBench(name: string): Promise<ChatBench> {
  const dbDir = process.env.BENCH_DB_FILE === '1' ? mkdtempSync(path.join(tmpdir(), `wisp-bench-${name}-`)) : null;
  // `BENCH_DB_JAR` runs another build of the launcher (e.g. main's), to compare two in the same session.
  const jar = process.env.BENCH_DB_JAR;
  const db = await startEmbeddedDb({
    ...(dbDir ? { file: path.join(dbDir, 'bench.mv') } : {}),
    ...(jar ? { jar } : {}),
  });
  const model = await startModelProcess();
  const bench = await startBenchApp({
    dbUri: db.uri,
    dbName: `wisp_bench_${name.replace(/-/g, '_')}`,
    soleServer: true,
    env: { OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'bench', OPENAI_MODEL: 'fake-chat' },
  });
  const headers = { authorization: `Bearer ${bench.org.adminKey}`, 'content-type': 'application/json' };
  const question = JSON.stringify({ chatbotId: bench.bot.id, message: 'How do I reset my password?' });
  return {
    ...bench,
    db,
    model,
    onFile: dbDir !== null,
    headers,
    question,
    turn: () =>
      fetch(`${bench.app.url}/api/v1/chat`, { method: 'POST', headers, body: question }).then((res) => res.text()),
    stop: async () => {
      await bench.stop();
      await model.stop();
      await db.stop();
      if (dbDir) rmSync(dbDir, { recursive: true, force: true });
    },
  };
}
