/**
 * Widget socket bench: the real app on the embedded database (in memory) with the test model
 * server at zero latency and every limit lifted; 2,000 widget sockets connected over loopback as
 * the widget connects (namespace `/widget`, websocket, `Origin`, bot and visitor id in the
 * handshake), then 200 of them each send one message, spread evenly within 1 s. Prints the
 * handshake time, and per message the time to its ack, its first chunk and its end (p50/p95/p99),
 * with every error counted. The sockets run in a child process, so the server's process does only
 * the server's work. Stops by itself: every wait is bounded.
 * Run: npx tsx bench/widget-sockets.bench.ts
 * Profile the server: node --cpu-prof --cpu-prof-dir=bench/profiles --import tsx bench/widget-sockets.bench.ts
 * (`BENCH_SOCKETS`, `BENCH_ASKERS`, `BENCH_SPREAD_MS` change the shape.)
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import type { WidgetClientEvents, WidgetServerEvents } from '../shared/socket-events.js';

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 2000);
const ASKERS = Number(process.env.BENCH_ASKERS ?? 200);
const SPREAD_MS = Number(process.env.BENCH_SPREAD_MS ?? 1000);
/** Handshakes in flight at once, as many pages opening their chat together. */
const CONNECTING_AT_ONCE = 100;
const CONNECT_TIMEOUT_MS = 20_000;
const ANSWER_TIMEOUT_MS = 60_000;
/** The whole run, connecting and asking; past it the bench stops with what it has. */
const RUN_TIMEOUT_MS = 240_000;
const ORIGIN = 'https://shop.example';

type Client = Socket<WidgetServerEvents, WidgetClientEvents>;

/** What the client process reports back (one JSON line on stdout). */
interface ClientReport {
  connected: number;
  connectErrors: Record<string, number>;
  connectMs: number[];
  connectWallMs: number;
  ackMs: number[];
  firstChunkMs: number[];
  doneMs: number[];
  /** `chat:chunk` events received per answer. */
  chunkCounts: number[];
  errors: Record<string, number>;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const fmt = (values: number[]) =>
  values.length === 0
    ? 'no samples'
    : `p50 ${percentile(values, 50).toFixed(1)} ms, p95 ${percentile(values, 95).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms, max ${percentile(values, 100).toFixed(1)} ms (${values.length})`;

const count = (tally: Record<string, number>, key: string) => (tally[key] = (tally[key] ?? 0) + 1);

/** The client side: connects the sockets, sends the messages, prints one JSON report. */
async function runClients(url: string, bot: string): Promise<void> {
  const report: ClientReport = {
    connected: 0,
    connectErrors: {},
    connectMs: [],
    connectWallMs: 0,
    ackMs: [],
    firstChunkMs: [],
    doneMs: [],
    chunkCounts: [],
    errors: {},
  };
  const sockets: Client[] = [];
  const connectOne = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      // forceNew: one engine connection per socket, as 2,000 separate pages would have.
      const socket: Client = io(`${url}/widget`, {
        forceNew: true,
        transports: ['websocket'],
        extraHeaders: { Origin: ORIGIN },
        auth: { bot, visitorId: `v_${randomUUID().replaceAll('-', '')}`, pageUrl: `${ORIGIN}/pricing` },
        reconnection: false,
        timeout: CONNECT_TIMEOUT_MS,
      });
      const timer = setTimeout(() => finish('Timeout'), CONNECT_TIMEOUT_MS);
      const finish = (error: string | null) => {
        clearTimeout(timer);
        socket.off('session');
        socket.off('connect_error');
        if (error) {
          count(report.connectErrors, error);
          socket.disconnect();
        } else {
          report.connectMs.push(performance.now() - started);
          sockets.push(socket);
        }
        resolve();
      };
      socket.once('session', () => finish(null));
      socket.once('connect_error', (error: Error & { data?: { name?: string } }) =>
        finish(error.data?.name ?? error.message),
      );
    });

  const connectStarted = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONNECTING_AT_ONCE }, async () => {
      while (next < SOCKETS) {
        next += 1;
        await connectOne();
      }
    }),
  );
  report.connectWallMs = performance.now() - connectStarted;
  report.connected = sockets.length;

  // Every tenth socket asks (or evenly spaced ones for other shapes), one message each.
  const step = Math.max(1, Math.floor(sockets.length / ASKERS));
  const askers = sockets.filter((_, i) => i % step === 0).slice(0, ASKERS);
  const ask = (socket: Client) =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      let chunks = 0;
      const timer = setTimeout(() => end('Timeout'), ANSWER_TIMEOUT_MS);
      const end = (error: string | null) => {
        clearTimeout(timer);
        socket.off('chat:chunk');
        socket.off('chat:done');
        socket.off('chat:error');
        if (error) count(report.errors, error);
        else {
          report.doneMs.push(performance.now() - started);
          report.chunkCounts.push(chunks);
        }
        resolve();
      };
      socket.on('chat:chunk', () => {
        chunks += 1;
        if (chunks === 1) report.firstChunkMs.push(performance.now() - started);
      });
      socket.once('chat:done', () => end(chunks > 0 ? null : 'DoneWithoutChunk'));
      socket.once('chat:error', ({ error }) => end(`chat:error ${error.name}`));
      socket
        .timeout(ANSWER_TIMEOUT_MS)
        .emitWithAck('chat:send', { text: 'How do I reset my password?', clientMessageId: `c_${randomUUID()}` })
        .then(
          (reply) => {
            if (reply.error) end(`ack ${reply.error.name}`);
            else report.ackMs.push(performance.now() - started);
          },
          () => end('AckTimeout'),
        );
    });
  const gap = askers.length > 1 ? SPREAD_MS / askers.length : 0;
  await Promise.all(
    askers.map(
      (socket, i) =>
        new Promise<void>((resolve) => setTimeout(() => void ask(socket).then(resolve), Math.round(i * gap))),
    ),
  );
  for (const socket of sockets) socket.disconnect();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/** The server side: starts the database, model server and app, runs the clients' process, prints the figures. */
async function main(): Promise<void> {
  const [{ startBenchApp }, { startEmbeddedDb }, { startFakeLlm }, { loadavg }] = await Promise.all([
    import('./bench-app.js'),
    import('../server/db/embedded-db.js'),
    import('../server/test/fake-llm/fake-llm.server.js'),
    import('node:os'),
  ]);
  const load = () =>
    loadavg()
      .map((value) => value.toFixed(1))
      .join(' / ');
  const loadBefore = load();
  const db = await startEmbeddedDb();
  const fake = await startFakeLlm();
  const bench = await startBenchApp({
    dbUri: db.uri,
    dbName: 'wisp_bench_widget_sockets',
    env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'bench', OPENAI_MODEL: 'fake-chat' },
  });
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'clients'], {
      env: { ...process.env, BENCH_URL: bench.app.url, BENCH_BOT: bench.bot.id },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (data: Buffer) => (output += data.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(timer);
    const line = output.trim().split('\n').pop() ?? '';
    if (code !== 0 || !line.startsWith('{')) throw new Error(`the clients' process ended with ${code} and no report`);
    const report = JSON.parse(line) as ClientReport;

    console.log(
      `Widget sockets bench: ${SOCKETS} sockets, ${ASKERS} asking within ${SPREAD_MS} ms, model server with zero latency`,
    );
    console.log(`load average (1/5/15 min) before: ${loadBefore}, after: ${load()}`);
    console.log(
      `connected ${report.connected} of ${SOCKETS} in ${(report.connectWallMs / 1000).toFixed(1)} s (${CONNECTING_AT_ONCE} at once), refused or failed: ${JSON.stringify(report.connectErrors)}`,
    );
    console.log(`handshake to session: ${fmt(report.connectMs)}`);
    console.log(`send to ack (stored):  ${fmt(report.ackMs)}`);
    console.log(`send to first chunk:   ${fmt(report.firstChunkMs)}`);
    console.log(`send to done:          ${fmt(report.doneMs)}`);
    const frames = report.chunkCounts.reduce((sum, n) => sum + n, 0);
    console.log(
      `chunk events per answer: ${report.chunkCounts.length ? (frames / report.chunkCounts.length).toFixed(1) : 'n/a'} on average`,
    );
    console.log(`message errors: ${JSON.stringify(report.errors)}`);
  } finally {
    await bench.stop();
    await fake.stop();
    await db.stop();
  }
}

if (process.argv[2] === 'clients') {
  const watchdog = setTimeout(() => process.exit(2), RUN_TIMEOUT_MS);
  watchdog.unref();
  await runClients(process.env.BENCH_URL!, process.env.BENCH_BOT!);
  process.exit(0);
} else {
  await main();
}
