/**
 * The embedded database's non-unique indexes at scale: a continuing chat turn's history query
 * (`conversations.service.ts` `history`) and the widget handshake's `conversations.find({chatbotId, visitorId})`,
 * with 1k and 100k documents in the collections, each index declared as the models declare it. Per query: the
 * median latency and the database JVM's CPU. With `BENCH_BASELINE_JAR` (another build of the launcher, e.g. main's)
 * both launchers are measured in the same run, alternately, on the same data. `BENCH_OPEN_DOCS` (default 200k)
 * messages are then written to an H2 file, which each launcher opens (the same file: the format is unchanged) and
 * answers one history query on: the time until it accepts connections, and until that answer.
 * The job queues (`server/queue/lease-queue.ts`): a poll (`status: {$in: [...]}`, index {status, runAt}) and a
 * claim (`updateMany({_id: {$in: ids}, status: {$in: [...]}, ...})`, then `find({_id: {$in: ids}})`) on a
 * collection of that many finished jobs and a few queued ones.
 * Run: npx tsx bench/nonunique-index.bench.ts (`BENCH_SIZES`, default 1000,100000; `BENCH_QUERIES`, default 100;
 * `BENCH_CASES`, default chat,queue).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { EMBEDDED_DB_JAR, startEmbeddedDb } from '../server/db/embedded-db.js';
import { processCpuMs } from './bench-app.js';
import { percentile } from './percentile.js';

const SIZES = (process.env.BENCH_SIZES ?? '1000,100000').split(',').map(Number);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 100);
const OPEN_DOCS = Number(process.env.BENCH_OPEN_DOCS ?? 200_000);
/** A scan of 100k documents takes long: a case stops after this many ms of queries. */
const CASE_BUDGET_MS = 15_000;
const CASES = (process.env.BENCH_CASES ?? 'chat,queue').split(',');
const JARS: Array<[string, string]> = [['this build', EMBEDDED_DB_JAR]];
if (process.env.BENCH_BASELINE_JAR) JARS.unshift(['baseline', process.env.BENCH_BASELINE_JAR]);

const BOTS = [new ObjectId(), new ObjectId()];
const MESSAGES_PER_CONVERSATION = 10;
const conversationId = (i: number) => new ObjectId(i.toString(16).padStart(24, '0'));

/** The collections and indexes of `message.model.ts` and `conversation.model.ts`. */
async function createCollections(db: Db) {
  const messages = db.collection('messages');
  await messages.createIndex({ conversationId: 1, clientMessageId: 1 }, { unique: true });
  await messages.createIndex({ conversationId: 1, createdAt: 1, _id: 1 });
  await messages.createIndex({ chatbotId: 1 });
  await messages.createIndex({ 'pendingAction.token': 1 });
  await messages.createIndex({ 'takenAction.token': 1 });
  await messages.createIndex({ status: 1, heartbeatAt: 1 });
  const conversations = db.collection('conversations');
  await conversations.createIndex({ chatbotId: 1, sessionKey: 1 }, { unique: true });
  await conversations.createIndex({ organizationId: 1, createdAt: -1, _id: -1 });
  await conversations.createIndex({ chatbotId: 1, visitorId: 1, updatedAt: -1 });
}

function message(i: number) {
  const conversation = Math.floor(i / MESSAGES_PER_CONVERSATION);
  const at = new Date(1_700_000_000_000 + i * 1000);
  return {
    organizationId: BOTS[0],
    chatbotId: BOTS[conversation % 2],
    conversationId: conversationId(conversation),
    role: i % 2 ? 'assistant' : 'user',
    content: `message ${i} `.padEnd(240, 'lorem ipsum '),
    status: 'complete',
    clientMessageId: `m${i}`,
    replyTo: null,
    sources: [],
    confidence: null,
    heartbeatAt: null,
    pendingAction: null,
    takenAction: null,
    createdAt: at,
    updatedAt: at,
  };
}

function conversation(i: number) {
  const at = new Date(1_700_000_000_000 + i * 1000);
  return {
    organizationId: BOTS[0],
    chatbotId: BOTS[i % 2],
    sessionKey: `s${i}`,
    visitorId: `v${i}`,
    channel: 'widget',
    createdAt: at,
    updatedAt: at,
  };
}

async function fill(db: Db, size: number, from = 0) {
  const batch = 2000;
  for (let i = from; i < size; i += batch) {
    const n = Math.min(batch, size - i);
    await db.collection('messages').insertMany(Array.from({ length: n }, (_, j) => message(i + j)));
    await db.collection('conversations').insertMany(Array.from({ length: n }, (_, j) => conversation(i + j)));
  }
}

const history = (db: Db, size: number) => {
  const conversations = size / MESSAGES_PER_CONVERSATION;
  const id = conversationId(Math.floor(Math.random() * conversations));
  return db
    .collection('messages')
    .find({ conversationId: id, status: 'complete', _id: { $nin: [new ObjectId(), new ObjectId()] } })
    .sort({ createdAt: -1, _id: -1 })
    .limit(20)
    .toArray();
};

const handshake = (db: Db, size: number) => {
  const i = Math.floor(Math.random() * size);
  return db
    .collection('conversations')
    .find({ chatbotId: BOTS[i % 2], visitorId: `v${i}` })
    .toArray();
};

/** The jobs collection of `lease-queue.ts`: `size` finished jobs (kept, as webhook deliveries are) and 20 due. */
async function fillJobs(db: Db, size: number) {
  const jobs = db.collection('jobs');
  await jobs.createIndex({ status: 1, runAt: 1 });
  const at = (i: number) => new Date(1_700_000_000_000 + i * 1000);
  const job = (i: number, status: string) => ({
    status,
    runAt: at(i),
    lockedUntil: at(i),
    lockToken: null,
    attempts: status === 'done' ? 1 : 0,
    payload: { url: `https://example.test/hook/${i}`, event: 'message.created', body: 'x'.repeat(200) },
    finishedAt: status === 'done' ? at(i) : null,
  });
  const batch = 2000;
  for (let i = 0; i < size; i += batch) {
    const n = Math.min(batch, size - i);
    await jobs.insertMany(Array.from({ length: n }, (_, j) => job(i + j, 'done')));
  }
  await jobs.insertMany(Array.from({ length: 20 }, (_, j) => job(size + j, 'queued')));
}

/** lease-queue.ts `dueAt`. */
const dueAt = (now: Date) => ({
  status: { $in: ['queued', 'running'] },
  runAt: { $lte: now },
  lockedUntil: { $lte: now },
});

const poll = (db: Db) =>
  db
    .collection('jobs')
    .find(dueAt(new Date()), { projection: { _id: 1 } })
    .sort({ runAt: 1 })
    .limit(10)
    .toArray();

/** lease-queue.ts `claimHinted`, with a lease already run out, so the same jobs are claimable at every round. */
const claim = async (db: Db, ids: ObjectId[]) => {
  const jobs = db.collection('jobs');
  const now = new Date();
  await jobs.updateMany(
    { _id: { $in: ids }, ...dueAt(now) },
    {
      $set: { status: 'running', lockToken: `t${Math.random()}`, lockedUntil: new Date(now.getTime() - 1) },
      $inc: { attempts: 1 },
    },
  );
  return jobs.find({ _id: { $in: ids } }).toArray();
};

async function measure(pid: number | undefined, query: () => Promise<unknown[]>) {
  for (let i = 0; i < 5; i += 1) await query();
  const load = loadavg()[0]!;
  const cpuBefore = processCpuMs(pid);
  const latencies: number[] = [];
  const started = performance.now();
  while (latencies.length < QUERIES && performance.now() - started < CASE_BUDGET_MS) {
    const t = performance.now();
    const found = await query();
    latencies.push(performance.now() - t);
    if (found.length === 0) throw new Error('the query found nothing');
  }
  const cpu = (processCpuMs(pid) - cpuBefore) / latencies.length;
  return `p50 ${percentile(latencies, 50).toFixed(2)} ms, JVM ${cpu.toFixed(2)} ms/query (${latencies.length} queries, load ${load.toFixed(1)})`;
}

const rssMb = (pid: number | undefined) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

const dir = mkdtempSync(path.join(tmpdir(), 'wisp-nonunique-bench-'));
try {
  for (const onFile of [false, true]) {
    for (const size of SIZES) {
      for (const [label, jar] of JARS) {
        const file = path.join(dir, `${label.replace(' ', '-')}-${size}.mv`);
        const db = await startEmbeddedDb({ jar, ...(onFile ? { file } : {}) });
        const client = await MongoClient.connect(db.uri);
        const database = client.db('bench');
        const where = onFile ? 'H2 file' : 'memory';
        if (CASES.includes('chat')) {
          await createCollections(database);
          const t = performance.now();
          await fill(database, size);
          const fillS = (performance.now() - t) / 1000;
          console.log(
            `${where}, ${size} messages and ${size} conversations, ${label}: inserted in ${fillS.toFixed(1)} s`,
          );
          console.log(`  history: ${await measure(db.pid, () => history(database, size))}`);
          console.log(`  handshake: ${await measure(db.pid, () => handshake(database, size))}`);
        }
        if (CASES.includes('queue')) {
          await fillJobs(database, size);
          const ids = (await poll(database)).map((job) => job._id as ObjectId);
          console.log(`${where}, ${size} finished jobs and 20 queued, ${label}:`);
          console.log(`  queue poll: ${await measure(db.pid, () => poll(database))}`);
          console.log(`  queue claim of ${ids.length}: ${await measure(db.pid, () => claim(database, ids))}`);
        }
        console.log(`  JVM RSS ${rssMb(db.pid).toFixed(0)} MB`);
        await client.close();
        await db.stop();
        rmSync(file, { force: true });
      }
    }
  }

  if (OPEN_DOCS > 0) {
    const file = path.join(dir, 'open.mv');
    const writer = await startEmbeddedDb({ file });
    const client = await MongoClient.connect(writer.uri);
    await createCollections(client.db('bench'));
    await fill(client.db('bench'), OPEN_DOCS);
    await client.close();
    await writer.stop();
    for (const round of [1, 2]) {
      for (const [label, jar] of JARS) {
        const t = performance.now();
        const db = await startEmbeddedDb({ jar, file });
        const openMs = performance.now() - t;
        const reader = await MongoClient.connect(db.uri);
        await history(reader.db('bench'), OPEN_DOCS);
        const firstMs = performance.now() - t;
        console.log(
          `open of an H2 file with ${OPEN_DOCS} messages and conversations, ${label} (round ${round}): accepts connections after ${(openMs / 1000).toFixed(1)} s, first history answer after ${(firstMs / 1000).toFixed(1)} s; JVM RSS ${rssMb(db.pid).toFixed(0)} MB (load ${loadavg()[0]!.toFixed(1)})`,
        );
        await reader.close();
        await db.stop();
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
