/**
 * Widget socket bench: the real app on the embedded database (in memory) with the test model
 * server at zero latency and every limit lifted; 2,000 widget sockets connected over loopback as
 * the widget connects (namespace `/widget`, websocket, `Origin`, bot and visitor id in the
 * handshake), then 20 others send a message each, one after the other, to warm the server up, and
 * then 200 of them each send one message, spread evenly within 1 s. Prints the
 * handshake time, and per message the time to its ack, its first chunk and its end (p50/p95/p99),
 * with every error counted. The sockets (the visitors) and the model server each run in their own
 * child process, so the server's process (and its event loop) does only the server's work; the
 * server's CPU time is printed per handshake, per second of idle sockets and per turn, beside the
 * embedded database's (with what its JIT compiler threads were seen spending). Then 200 other sockets ask the same
 * way a second time, after 280 more warm-up messages (`BENCH_WARM_WARMUP`, 300 in all; 0 skips it), printed apart
 * and labelled: the first burst is the issue's figure, the second one a server whose database's JIT has compiled
 * its hot paths. Then the same-run floor (`floor-socket.ts`; `BENCH_FLOOR=0` skips it): the same sockets, warm-up, idle
 * time and first burst against a bare Socket.IO server in its own process on a fresh database, and the first burst's
 * send-to-first-chunk p50 and p99 ÷ the floor's, since the shared machine's speed moves absolute figures from one
 * minute to the next. Stops by itself: every wait is bounded.
 * Run: npx tsx bench/widget-sockets.bench.ts
 * Profile the server: node --cpu-prof --cpu-prof-dir=bench/profiles --import tsx bench/widget-sockets.bench.ts, or each
 * burst alone: `BENCH_CPU_PROF=first.cpuprofile` (the warm burst's in `first.warm.cpuprofile`; sampled every
 * `BENCH_CPU_PROF_US` µs, default 500). Per burst it also prints the share of the server's CPU spent off its main
 * thread (V8's compiler and garbage-collector helpers) and the main thread's time running and waiting for a core.
 * (`BENCH_SOCKETS`, `BENCH_ASKERS`, `BENCH_SPREAD_MS`, `BENCH_IDLE_MS`, `BENCH_WARMUP` change the shape; `BENCH_NODES=2` runs
 * two server nodes, one process each, on the same database with a Redis, as REDIS_URL lets operators (one node is
 * the sole server on its database, as `npm start` runs on the embedded engine); `BENCH_ENV`, e.g.
 * `WIDGET_TURN_CONCURRENCY=8,LOG_LEVEL=silent`, passes settings to the server; `BENCH_DB_JAR` runs another build of the
 * database's launcher, e.g. main's, to alternate two in one session.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import type { WidgetClientEvents, WidgetServerEvents } from '../shared/socket-events.js';
import { percentile } from './percentile.js';

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 2000);
const ASKERS = Number(process.env.BENCH_ASKERS ?? 200);
const SPREAD_MS = Number(process.env.BENCH_SPREAD_MS ?? 1000);
/** How long the connected sockets sit idle (heartbeats only) before the messages, to time their upkeep. */
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 5000);
/** Messages sent one after the other before the burst (not counted), so it meets a warmed-up server. */
const WARMUP_TURNS = Number(process.env.BENCH_WARMUP ?? 20);
/**
 * Sequential messages in all before a second burst, timed apart (0: no second burst): the first burst meets a
 * fresh JVM still compiling its hot paths, the second one a server that has answered hundreds of turns.
 */
const WARM_WARMUP_TURNS = Number(process.env.BENCH_WARM_WARMUP ?? 300);
/** `BENCH_FLOOR=0` skips the same-run floor (`floor-socket.ts`) the first burst is read against. */
const FLOOR = process.env.BENCH_FLOOR !== '0';
/** Server nodes (processes) sharing the database and a Redis; the sockets are spread over them. */
const NODES = Number(process.env.BENCH_NODES ?? 1);
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
  /** The clients' own CPU time (ms) so far, to show they were not the bottleneck. */
  clientCpuMs: number;
}

/** What one burst of messages measured. */
interface BurstReport {
  ackMs: number[];
  firstChunkMs: number[];
  doneMs: number[];
  /** `chat:chunk` events received per answer. */
  chunkCounts: number[];
  errors: Record<string, number>;
}

/** What the children say over IPC. */
type ChildMessage =
  | { type: 'model'; url: string }
  | { type: 'node'; url: string }
  | { type: 'floor'; url: string; dbPid: number | undefined }
  | { type: 'connected' }
  | { type: 'warmed' }
  | { type: 'burst'; burst: BurstReport; /** A second burst follows. */ more: boolean }
  | { type: 'report'; report: ClientReport };

const fmt = (values: number[]) =>
  values.length === 0
    ? 'no samples'
    : `p50 ${percentile(values, 50).toFixed(1)} ms, p95 ${percentile(values, 95).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms, max ${percentile(values, 100).toFixed(1)} ms (${values.length})`;

const count = (tally: Record<string, number>, key: string) => (tally[key] = (tally[key] ?? 0) + 1);

/** The client side: connects the sockets, sends the messages, reports each burst and then the whole run over IPC. */
async function runClients(urls: string[], bot: string): Promise<void> {
  const cpuStarted = process.cpuUsage();
  const report: ClientReport = {
    connected: 0,
    connectErrors: {},
    connectMs: [],
    connectWallMs: 0,
    clientCpuMs: 0,
  };
  const sockets: Client[] = [];
  const connectOne = (index: number) =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      // forceNew: one engine connection per socket, as 2,000 separate pages would have. With several
      // server nodes the sockets are spread over them in turn, as a load balancer would.
      const socket: Client = io(`${urls[index % urls.length]}/widget`, {
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
        await connectOne(next);
      }
    }),
  );
  report.connectWallMs = performance.now() - connectStarted;
  report.connected = sockets.length;
  const told = () => new Promise<void>((resolve) => process.once('message', () => resolve()));
  process.send!({ type: 'connected' } satisfies ChildMessage);
  await told();

  // Every tenth socket asks (or evenly spaced ones for other shapes), one message each; a few others
  // first warm the server up, one message after the other, as a server that has been answering is. The
  // second burst (if any) is asked by other sockets, each a new visitor as in the first, after more warm-up.
  const step = Math.max(1, Math.floor(sockets.length / ASKERS));
  const second = step > 2 ? Math.floor(step / 2) : null;
  const warmers = sockets.filter((_, i) => i % step !== 0 && i % step !== second);
  const warmUp = async (from: number, to: number) => {
    for (const socket of step > 1 ? warmers.slice(from, to) : []) {
      const done = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ANSWER_TIMEOUT_MS);
        socket.once('chat:done', () => (clearTimeout(timer), resolve()));
      });
      const reply = await socket
        .timeout(ANSWER_TIMEOUT_MS)
        .emitWithAck('chat:send', { text: 'Hello, is anyone there?', clientMessageId: `c_${randomUUID()}` })
        .catch(() => null);
      if (reply?.data) await done;
    }
  };
  const ask = (socket: Client, burst: BurstReport) =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      let chunks = 0;
      const timer = setTimeout(() => end('Timeout'), ANSWER_TIMEOUT_MS);
      const end = (error: string | null) => {
        clearTimeout(timer);
        socket.off('chat:chunk');
        socket.off('chat:done');
        socket.off('chat:error');
        if (error) count(burst.errors, error);
        else {
          burst.doneMs.push(performance.now() - started);
          burst.chunkCounts.push(chunks);
        }
        resolve();
      };
      socket.on('chat:chunk', () => {
        chunks += 1;
        if (chunks === 1) burst.firstChunkMs.push(performance.now() - started);
      });
      socket.once('chat:done', () => end(chunks > 0 ? null : 'DoneWithoutChunk'));
      socket.once('chat:error', ({ error }) => end(`chat:error ${error.name}`));
      socket
        .timeout(ANSWER_TIMEOUT_MS)
        .emitWithAck('chat:send', { text: 'How do I reset my password?', clientMessageId: `c_${randomUUID()}` })
        .then(
          (reply) => {
            if (reply.error) end(`ack ${reply.error.name}`);
            else burst.ackMs.push(performance.now() - started);
          },
          () => end('AckTimeout'),
        );
    });
  const more = second !== null && WARM_WARMUP_TURNS > 0;
  const askBurst = async (residue: number, followed: boolean) => {
    const burst: BurstReport = { ackMs: [], firstChunkMs: [], doneMs: [], chunkCounts: [], errors: {} };
    const askers = sockets.filter((_, i) => i % step === residue).slice(0, ASKERS);
    const gap = askers.length > 1 ? SPREAD_MS / askers.length : 0;
    await Promise.all(
      askers.map(
        (socket, i) =>
          new Promise<void>((resolve) => setTimeout(() => void ask(socket, burst).then(resolve), Math.round(i * gap))),
      ),
    );
    process.send!({ type: 'burst', burst, more: followed } satisfies ChildMessage);
  };

  await warmUp(0, WARMUP_TURNS);
  // The server times the idle sockets, then says when to ask.
  process.send!({ type: 'warmed' } satisfies ChildMessage);
  await told();
  await askBurst(0, more);
  if (more) {
    await told();
    await warmUp(WARMUP_TURNS, Math.max(WARMUP_TURNS, WARM_WARMUP_TURNS));
    process.send!({ type: 'warmed' } satisfies ChildMessage);
    await told();
    await askBurst(second!, false);
  }
  const cpu = process.cpuUsage(cpuStarted);
  report.clientCpuMs = (cpu.user + cpu.system) / 1000;
  process.send!({ type: 'report', report } satisfies ChildMessage);
  for (const socket of sockets) socket.disconnect();
}

/** The model server's process: starts the test model server, says where, runs until its parent goes. */
async function runModel(): Promise<void> {
  const { startFakeLlm } = await import('../server/test/fake-llm/fake-llm.server.js');
  const fake = await startFakeLlm();
  process.send!({ type: 'model', url: fake.url } satisfies ChildMessage);
  process.once('disconnect', () => void fake.stop().then(() => process.exit(0)));
}

/**
 * Another server node's process (`BENCH_NODES` > 1): the same app on the same database and Redis as
 * the first, as an operator runs a second node; says where it listens, runs until its parent goes.
 */
async function runNode(): Promise<void> {
  const [{ startApp }, { parseEnv }, { connectMongo }, { UNLIMITED_ENV }, { pino }, { BENCH_SECRET_KEY }] =
    await Promise.all([
      import('../server/app.js'),
      import('../server/config.js'),
      import('../server/db/mongo.js'),
      import('../server/test/unlimited-limits.js'),
      import('pino'),
      import('./bench-app.js'),
    ]);
  const connection = await connectMongo(process.env.BENCH_DB_URI!, { dbName: process.env.BENCH_DB_NAME! });
  const env = JSON.parse(process.env.BENCH_NODE_ENV!) as Record<string, string>;
  const config = {
    ...parseEnv({ PORT: '0', LOG_LEVEL: 'silent', ...UNLIMITED_ENV, ...env }),
    SECRET_KEY: BENCH_SECRET_KEY,
  };
  const app = await startApp({ config, logger: pino({ level: 'silent' }), connection, embeddedDatabase: false });
  process.send!({ type: 'node', url: app.url } satisfies ChildMessage);
  process.once(
    'disconnect',
    () =>
      void app
        .stop(0)
        .then(() => connection.close())
        .then(() => process.exit(0)),
  );
}

/**
 * The same-run floor's process (`floor-socket.ts`): a fresh database of the same kind and a bare Socket.IO server on
 * it and the bench's model server; says where it listens, runs until its parent goes.
 */
async function runFloor(): Promise<void> {
  const [{ startEmbeddedDb }, { connectMongo }, { startFloorSocket }] = await Promise.all([
    import('../server/db/embedded-db.js'),
    import('../server/db/mongo.js'),
    import('./floor-socket.js'),
  ]);
  const jar = process.env.BENCH_DB_JAR;
  const db = await startEmbeddedDb(jar ? { jar } : {});
  const connection = await connectMongo(db.uri, { dbName: 'wisp_bench_floor_socket' });
  const floor = await startFloorSocket(process.env.BENCH_MODEL_URL!, connection);
  process.send!({ type: 'floor', url: floor.url, dbPid: db.pid } satisfies ChildMessage);
  process.once(
    'disconnect',
    () =>
      void floor
        .stop()
        .then(() => connection.close())
        .then(() => db.stop())
        .then(() => process.exit(0)),
  );
}

/** Starts this file in `mode` as a child process with an IPC channel. */
function child(mode: 'clients' | 'model' | 'node' | 'floor', env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), mode], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The next IPC message of `type` from `from`, or a rejection when it exits first. */
function nextMessage<T extends ChildMessage['type']>(
  from: ChildProcess,
  type: T,
): Promise<Extract<ChildMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: ChildMessage) => {
      if (message.type !== type) return;
      from.off('message', onMessage);
      from.off('exit', onExit);
      resolve(message as Extract<ChildMessage, { type: T }>);
    };
    const onExit = (code: number | null) => reject(new Error(`the ${type} child ended with ${code} before saying so`));
    from.on('message', onMessage);
    from.once('exit', onExit);
  });
}

/** CPU time (ms) a process has used so far, from /proc (Linux); NaN where it cannot be read. */
function processCpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * CPU time (ms) the thread `tid` of process `pid` has used, from /proc (Linux); NaN where it cannot be read. The
 * server's main thread (its tid is its pid) runs the JavaScript; its other threads are V8's (optimizing compiler,
 * concurrent garbage collection) and libuv's pool.
 */
function threadCpuMs(pid: number, tid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * Time (ms) the thread `tid` of process `pid` has spent ready to run but waiting for a core, from
 * /proc/…/schedstat (Linux, with scheduler statistics); NaN where it cannot be read.
 */
function threadWaitMs(pid: number, tid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
  } catch {
    return NaN;
  }
}

/** The last CPU time (ms) read of each JIT compiler thread, by `pid/tid`: the JVM ends idle compiler threads. */
const jitThreadsMs = new Map<string, number>();

/**
 * CPU time (ms) the JVM's JIT compiler threads (`C1 CompilerThre…`, `C2 CompilerThre…`) of process `pid` have used,
 * from /proc (Linux): the part of the database's CPU spent compiling its code rather than answering; NaN where it
 * cannot be read. A lower bound: a thread's time after its last reading is missed when it ends before the next one.
 */
function jitCpuMs(pid: number | undefined): number {
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        if (!/^C[12] CompilerThre/.test(name)) continue;
        const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
        jitThreadsMs.set(`${pid}/${task}`, (Number(fields[11]) + Number(fields[12])) * 10);
      } catch {
        // The thread ended between the listing and the read: its last reading stands.
      }
    }
    let sum = 0;
    for (const [key, ms] of jitThreadsMs) if (key.startsWith(`${pid}/`)) sum += ms;
    return sum;
  } catch {
    return NaN;
  }
}

/** The server side: starts the database, the model server's and the clients' processes and the app; prints the figures. */
/**
 * The same-run floor: the same sockets, warm-up, idle time and first burst as the app's, against a bare Socket.IO
 * server in its own process on a fresh database (`floor-socket.ts`), so the app's first burst reads against what this
 * machine, at this minute, gives the least any widget turn must do. Returns the burst's figures and the floor's CPU
 * (its process and its database's) over it; stops both children whatever happens.
 */
async function floorBurst(
  modelUrl: string,
): Promise<{ figures: BurstReport; connected: number; serverCpuMs: number; dbCpuMs: number }> {
  const server = child('floor', { BENCH_MODEL_URL: modelUrl });
  let visitors: ChildProcess | null = null;
  try {
    const { url, dbPid } = await nextMessage(server, 'floor');
    const running = child('clients', { BENCH_URLS: url, BENCH_BOT: 'floor', BENCH_WARM_WARMUP: '0' });
    visitors = running;
    const timer = setTimeout(() => running.kill('SIGKILL'), RUN_TIMEOUT_MS);
    const reported = nextMessage(running, 'report');
    reported.catch(() => undefined);
    await nextMessage(running, 'connected');
    running.send('warm');
    await nextMessage(running, 'warmed');
    // As for the app: a second for the warm-up's writes to settle, then the idle time.
    await new Promise((resolve) => setTimeout(resolve, 1000 + IDLE_MS));
    const serverBefore = processCpuMs(server.pid);
    const dbBefore = processCpuMs(dbPid);
    const burstReported = nextMessage(running, 'burst');
    running.send('ask');
    const { burst: figures } = await burstReported;
    const serverCpuMs = processCpuMs(server.pid) - serverBefore;
    const dbCpuMs = processCpuMs(dbPid) - dbBefore;
    const { report } = await reported;
    clearTimeout(timer);
    return { figures, connected: report.connected, serverCpuMs, dbCpuMs };
  } finally {
    visitors?.kill('SIGKILL');
    // The floor's process stops its database when told; one that has not exited within 10 s is killed (its database
    // child exits with it).
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      const killer = setTimeout(() => server.kill('SIGKILL'), 10_000);
      if (server.connected) server.disconnect();
      await exited;
      clearTimeout(killer);
    }
  }
}

async function main(): Promise<void> {
  const [{ startBenchApp }, { startEmbeddedDb }, { loadavg }, { startRedis }] = await Promise.all([
    import('./bench-app.js'),
    import('../server/db/embedded-db.js'),
    import('node:os'),
    import('../server/test/redis-server.js'),
  ]);
  const load = () =>
    loadavg()
      .map((value) => value.toFixed(1))
      .join(' / ');
  const loadBefore = load();
  const extraEnv = Object.fromEntries(
    (process.env.BENCH_ENV ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('=') as [string, string]),
  );
  // `BENCH_DB_JAR` runs another build of the launcher (e.g. main's), to compare two in the same session.
  const jar = process.env.BENCH_DB_JAR;
  const dbStarted = performance.now();
  const db = await startEmbeddedDb(jar ? { jar } : {});
  // Several nodes share the database and a Redis (REDIS_URL), as an operator runs them.
  const redis = NODES > 1 ? await startRedis() : null;
  const model = child('model');
  const nodes: ChildProcess[] = [];
  let clients: ChildProcess | null = null;
  let bench: Awaited<ReturnType<typeof startBenchApp>> | null = null;
  try {
    const { url: modelUrl } = await nextMessage(model, 'model');
    const serverEnv: Record<string, string> = {
      OPENAI_BASE_URL: modelUrl,
      OPENAI_API_KEY: 'bench',
      OPENAI_MODEL: 'fake-chat',
      ...(redis ? { REDIS_URL: redis.url } : {}),
      ...extraEnv,
    };
    const dbName = 'wisp_bench_widget_sockets';
    // One node is the only server on its database, as `npm start` runs it on the embedded engine.
    bench = await startBenchApp({ dbUri: db.uri, dbName, env: serverEnv, soleServer: NODES === 1 });
    const urls = [bench.app.url];
    for (let i = 1; i < NODES; i += 1) {
      const node = child('node', {
        BENCH_DB_URI: db.uri,
        BENCH_DB_NAME: dbName,
        BENCH_NODE_ENV: JSON.stringify(serverEnv),
      });
      nodes.push(node);
      urls.push((await nextMessage(node, 'node')).url);
    }
    // CPU time of the server's processes (every node) and of the database's, in ms.
    const cpu = () => {
      const own = process.cpuUsage();
      const others = nodes.reduce((sum, node) => sum + processCpuMs(node.pid), 0);
      return {
        server: (own.user + own.system) / 1000 + others,
        own: (own.user + own.system) / 1000,
        main: threadCpuMs(process.pid, process.pid),
        mainWait: threadWaitMs(process.pid, process.pid),
        kernel: own.system / 1000,
        db: processCpuMs(db.pid),
        dbJit: jitCpuMs(db.pid),
      };
    };
    // Database round trips (the first node's only, with several): mongoose's debug hook sees every collection call (an insertMany or bulkWrite once).
    let calls = new Map<string, number>();
    bench.connection.set('debug', (collection: string, method: string) => {
      const key = `${collection}.${method}`;
      calls.set(key, (calls.get(key) ?? 0) + 1);
    });
    const since = (start: ReturnType<typeof cpu>) => {
      const now = cpu();
      const counted = calls;
      calls = new Map();
      const trips = [...counted.values()].reduce((sum, n) => sum + n, 0);
      return {
        server: now.server - start.server,
        own: now.own - start.own,
        main: now.main - start.main,
        mainWait: now.mainWait - start.mainWait,
        kernel: now.kernel - start.kernel,
        db: now.db - start.db,
        dbJit: now.dbJit - start.dbJit,
        trips,
        calls: counted,
      };
    };
    const byCall = (counted: Map<string, number>, per: number) =>
      [...counted]
        .filter(([, n]) => n / per >= 0.01)
        .sort((a, b) => b[1] - a[1])
        .map(([call, n]) => `${call} ${(n / per).toFixed(2)}`)
        .join(', ');

    calls = new Map();
    const memoryBefore = process.memoryUsage();
    const connecting = cpu();
    clients = child('clients', { BENCH_URLS: urls.join(','), BENCH_BOT: bench.bot.id });
    const running = clients;
    const timer = setTimeout(() => running.kill('SIGKILL'), RUN_TIMEOUT_MS);
    const reported = nextMessage(running, 'report');
    reported.catch(() => undefined);
    await nextMessage(running, 'connected');
    const connectCpu = since(connecting);
    const memoryConnected = process.memoryUsage();
    running.send('warm');
    await nextMessage(running, 'warmed');
    // The warm-up's writes after its answers settle before the idle sockets are timed.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    calls = new Map();

    const idling = cpu();
    const idleStarted = performance.now();
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const idleCpu = since(idling);
    const idleSeconds = (performance.now() - idleStarted) / 1000;

    // One burst: its answers' times from the clients, the server's and database's CPU over it.
    const burst = async (profile?: string) => {
      console.log(`a burst starts ${((performance.now() - dbStarted) / 1000).toFixed(1)} s after the database's start`);
      const profiler = profile ? new Session() : null;
      if (profiler) {
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_CPU_PROF_US ?? 500) });
        await profiler.post('Profiler.start');
      }
      const asking = cpu();
      const askStarted = performance.now();
      const burstReported = nextMessage(running, 'burst');
      running.send('ask');
      const { burst: figures, more } = await burstReported;
      const burstCpu = since(asking);
      const wallMs = performance.now() - askStarted;
      if (profiler) {
        const { profile: written } = await profiler.post('Profiler.stop');
        await writeFile(profile!, JSON.stringify(written));
        profiler.disconnect();
      }
      return { figures, more, cpu: burstCpu, wallMs };
    };
    const first = await burst(process.env.BENCH_CPU_PROF);
    // The second burst, after more warm-up (BENCH_WARM_WARMUP), as a server that has been answering for a while.
    const warmTurns = Math.max(WARMUP_TURNS, WARM_WARMUP_TURNS);
    let warm: Awaited<ReturnType<typeof burst>> | null = null;
    if (first.more) {
      running.send('warm');
      await nextMessage(running, 'warmed');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      calls = new Map();
      warm = await burst(process.env.BENCH_CPU_PROF?.replace(/(\.cpuprofile)?$/, '.warm.cpuprofile'));
    }
    const { report } = await reported;
    clearTimeout(timer);

    const perSecond = (ms: number) => `${(ms / idleSeconds).toFixed(1)} ms/s`;
    const printBurst = ({ figures, cpu: askCpu, wallMs }: NonNullable<typeof warm>, label: string) => {
      const answers = figures.doneMs.length;
      console.log(label);
      console.log(`  send to ack (stored):  ${fmt(figures.ackMs)}`);
      console.log(`  send to first chunk:   ${fmt(figures.firstChunkMs)}`);
      console.log(`  send to done:          ${fmt(figures.doneMs)}`);
      const frames = figures.chunkCounts.reduce((sum, n) => sum + n, 0);
      console.log(
        `  chunk events per answer: ${figures.chunkCounts.length ? (frames / figures.chunkCounts.length).toFixed(1) : 'n/a'} on average; message errors: ${JSON.stringify(figures.errors)}`,
      );
      console.log(
        `  server CPU per turn: ${(askCpu.server / Math.max(1, answers)).toFixed(1)} ms, ${((100 * askCpu.kernel) / askCpu.own).toFixed(0)} % of it in the kernel, ${((100 * (askCpu.own - askCpu.main)) / askCpu.own).toFixed(0)} % off the main thread (database ${(askCpu.db / Math.max(1, answers)).toFixed(1)} ms, ${(askCpu.dbJit / Math.max(1, answers)).toFixed(1)} ms of it compiling), over ${answers} answered turns; database round trips ${(askCpu.trips / Math.max(1, answers)).toFixed(1)}`,
      );
      console.log(
        `  server's main thread${NODES > 1 ? " (the first node's)" : ''} over the burst's ${(wallMs / 1000).toFixed(2)} s: ${askCpu.main.toFixed(0)} ms running, ${askCpu.mainWait.toFixed(0)} ms ready but waiting for a core`,
      );
      if (process.env.BENCH_DUMP) console.log(`  per turn by call: ${byCall(askCpu.calls, Math.max(1, answers))}`);
    };
    console.log(
      `Widget sockets bench: ${SOCKETS} sockets, ${ASKERS} asking within ${SPREAD_MS} ms after ${WARMUP_TURNS} warm-up messages, model server with zero latency (own process)`,
    );
    console.log(`load average (1/5/15 min) before: ${loadBefore}, after: ${load()}`);
    if (NODES > 1) console.log(`${NODES} server nodes (one process each) sharing the database and a Redis (REDIS_URL)`);
    if (Object.keys(extraEnv).length > 0) console.log(`server settings: ${JSON.stringify(extraEnv)}`);
    console.log(
      `connected ${report.connected} of ${SOCKETS} in ${(report.connectWallMs / 1000).toFixed(1)} s (${CONNECTING_AT_ONCE} at once), refused or failed: ${JSON.stringify(report.connectErrors)}`,
    );
    console.log(`handshake to session: ${fmt(report.connectMs)}`);
    const connected = Math.max(1, report.connected);
    console.log(
      `server CPU per handshake: ${(connectCpu.server / connected).toFixed(2)} ms, ${((100 * connectCpu.kernel) / connectCpu.own).toFixed(0)} % of it in the kernel (database ${(connectCpu.db / connected).toFixed(2)} ms, ${(connectCpu.dbJit / connected).toFixed(2)} ms of it compiling); database round trips ${(connectCpu.trips / connected).toFixed(2)}: ${byCall(connectCpu.calls, connected)}`,
    );
    if (NODES === 1)
      console.log(
        `server memory per connected socket: ${((memoryConnected.rss - memoryBefore.rss) / connected / 1024).toFixed(1)} KiB resident, ${((memoryConnected.heapUsed - memoryBefore.heapUsed) / connected / 1024).toFixed(1)} KiB of JS heap (before any collection)`,
      );
    console.log(
      `server CPU with ${report.connected} idle sockets: ${perSecond(idleCpu.server)} (database ${perSecond(idleCpu.db)}, ${perSecond(idleCpu.dbJit)} of it compiling) over ${idleSeconds.toFixed(1)} s; database round trips ${idleCpu.trips}`,
    );
    printBurst(
      first,
      `the burst (issue 14's figure), after ${WARMUP_TURNS} warm-up messages: the database's JVM still compiles its hot paths during it`,
    );
    if (warm)
      printBurst(
        warm,
        `warm: a second burst of ${ASKERS} new visitors, after the first and ${warmTurns - WARMUP_TURNS} more warm-up messages (${warmTurns} in all, ${warmTurns + ASKERS} turns before it; BENCH_WARM_WARMUP=0 skips it)`,
      );
    console.log(`clients' process CPU, whole run: ${(report.clientCpuMs / 1000).toFixed(1)} s`);

    if (FLOOR) {
      const floor = await floorBurst(modelUrl);
      console.log(
        `floor (a bare Socket.IO server on the widget's events: one stored document, then the model's answer through the openai client; its own process and a fresh database; the same ${WARMUP_TURNS} warm-up messages and burst): ${floor.connected} of ${SOCKETS} connected`,
      );
      console.log(`  send to ack (stored):  ${fmt(floor.figures.ackMs)}`);
      console.log(`  send to first chunk:   ${fmt(floor.figures.firstChunkMs)}`);
      const answered = Math.max(1, floor.figures.doneMs.length);
      console.log(
        `  CPU per turn: server ${(floor.serverCpuMs / answered).toFixed(1)} ms, database ${(floor.dbCpuMs / answered).toFixed(1)} ms; message errors: ${JSON.stringify(floor.figures.errors)}`,
      );
      const ratio = (p: number) =>
        (percentile(first.figures.firstChunkMs, p) / percentile(floor.figures.firstChunkMs, p)).toFixed(2);
      console.log(`the burst ÷ floor, send to first chunk: p50 ${ratio(50)}, p99 ${ratio(99)}`);
    }
  } finally {
    clients?.kill('SIGKILL');
    model.disconnect();
    await Promise.all(
      nodes.map((node) => {
        const exited = new Promise((resolve) => node.once('exit', resolve));
        if (node.connected) node.disconnect();
        return exited;
      }),
    );
    await bench?.stop();
    redis?.process.kill();
    await db.stop();
  }
}

if (process.argv[2] === 'clients') {
  const watchdog = setTimeout(() => process.exit(2), RUN_TIMEOUT_MS);
  watchdog.unref();
  process.once('disconnect', () => process.exit(0));
  await runClients(process.env.BENCH_URLS!.split(','), process.env.BENCH_BOT!);
} else if (process.argv[2] === 'model') {
  await runModel();
} else if (process.argv[2] === 'node') {
  await runNode();
} else if (process.argv[2] === 'floor') {
  await runFloor();
} else {
  await main();
}
