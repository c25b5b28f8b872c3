/**
 * Knowledge bench: ingestion throughput through the real app (text sources posted over
 * HTTP, processed by the job queue, lexical and with embeddings from the test model
 * server), then retrieval latency for one bot at 1k, 10k and 100k chunks, lexical and
 * hybrid, with process memory. Chunks for the retrieval figures are inserted straight
 * through the models: ingesting 100k chunks through the API would take most of the time box.
 * Run: npx tsx bench/knowledge.bench.ts (BENCH_SIZES=1000,10000 for a shorter run;
 * BENCH_PARTS=retrieval or BENCH_PARTS=ingestion for one part; BENCH_INGEST=single or batch for one way of posting;
 * BENCH_MODES=lexical or hybrid for one ingestion mode; BENCH_REPEAT=3 to repeat each ingestion run; BENCH_SOURCES=200
 * for that many sources in both ingestion runs (default 200 single, 1,000 in batches);
 * BENCH_COMMANDS=1 to list the most frequent database commands of each ingestion run)
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import mongoose, { Types } from 'mongoose';
import { pino } from 'pino';
import { createModels, ensureCollections, type Models } from '../server/services.js';
import { startEmbeddedDb } from '../server/db/embedded-db.js';
import { connectMongo } from '../server/db/mongo.js';
import { fromVector } from '../server/knowledge/index/bot-index.js';
import { IndexCache } from '../server/knowledge/index/index-cache.js';
import { KnowledgeRetriever } from '../server/knowledge/knowledge.retriever.js';
import type { EmbeddingModel } from '../server/llm/model-client.js';
import type { ModelResolver } from '../server/llm/model-resolver.js';
import { embedText } from '../server/test/fake-llm/fake-llm.embeddings.js';
import { startFakeLlm } from '../server/test/fake-llm/fake-llm.server.js';
import { startBenchApp } from './bench-app.js';
import { collectGarbage, paragraph, rand } from './knowledge-bench-kit.js';
import { percentile } from './percentile.js';

const PARTS = (process.env.BENCH_PARTS ?? 'ingestion,retrieval').split(',');
const SIZES = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
/** A small sentence-embedding model's width (e.g. MiniLM); 1.5 KB of float32 per chunk. */
const DIMS = 384;
/**
 * Text sources per ingestion run: 200 posted one by one, 1,000 through the batch endpoint (ten POSTs, a bulk import),
 * long enough that its rate is a rate and not the first half second of two fresh runtimes (`BENCH_SOURCES` sets both).
 */
const INGEST_SOURCES = {
  single: Number(process.env.BENCH_SOURCES ?? 200),
  batch: Number(process.env.BENCH_SOURCES ?? 1000),
};
/** Sources per request of the batch endpoint (about 500 KB of JSON each). */
const BATCH_SIZE = 100;
const INGEST_WAYS = (process.env.BENCH_INGEST ?? 'single,batch').split(',') as Array<'single' | 'batch'>;
const INGEST_MODES = (process.env.BENCH_MODES ?? 'lexical,hybrid').split(',') as Array<'lexical' | 'hybrid'>;
const INGEST_REPEAT = Number(process.env.BENCH_REPEAT ?? 1);
const QUERIES = 300;
const logger = pino({ level: 'silent' });

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const ms = (value: number) => `${value.toFixed(1)} ms`;

/** CPU time (ms) of this process and of the embedded database's JVM (from /proc), to compare runs under load. */
function cpuNow(javaPid: number | undefined) {
  const node = process.cpuUsage();
  let jvm = 0;
  try {
    const fields = readFileSync(`/proc/${javaPid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime, in clock ticks of 10 ms.
    jvm = (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    // Not Linux or no pid: the JVM's share is left out (0).
  }
  return { node: (node.user + node.system) / 1000, jvm };
}

async function ingestThroughput(
  dbUri: string,
  mode: 'lexical' | 'hybrid',
  way: 'single' | 'batch',
  fakeUrl: string,
  javaPid: number | undefined,
) {
  const { app, org, bot, stop } = await startBenchApp({
    dbUri,
    dbName: `wisp_bench_ingest_${mode}_${way}`,
    logger,
    env: {
      KNOWLEDGE_JOB_POLL_MS: '50',
      ...(process.env.KNOWLEDGE_JOB_CONCURRENCY
        ? { KNOWLEDGE_JOB_CONCURRENCY: process.env.KNOWLEDGE_JOB_CONCURRENCY }
        : {}),
      ...(mode === 'hybrid'
        ? { OPENAI_BASE_URL: fakeUrl, OPENAI_API_KEY: 'bench', OPENAI_EMBEDDING_MODEL: 'fake-embed' }
        : {}),
    },
  });
  const sourceCount = INGEST_SOURCES[way];
  const documents = Array.from({ length: sourceCount }, (_, i) =>
    [
      `# Document ${i}`,
      ...Array.from({ length: 4 }, (_, s) => `## Section ${s}\n\n${paragraph()}\n\n${paragraph()}`),
    ].join('\n\n'),
  );
  const headers = { authorization: `Bearer ${org.adminKey}`, 'content-type': 'application/json' };
  // Every database command of the run, counted with mongoose's debug hook (the bench's own reads included).
  let commands = 0;
  const byCommand = new Map<string, number>();
  mongoose.set('debug', (collection: string, method: string) => {
    commands += 1;
    byCommand.set(`${collection}.${method}`, (byCommand.get(`${collection}.${method}`) ?? 0) + 1);
  });
  const cpuBefore = cpuNow(javaPid);
  const started = performance.now();
  const startedAt = Date.now();
  if (way === 'batch') {
    for (let i = 0; i < documents.length; i += BATCH_SIZE) {
      const sources = documents
        .slice(i, i + BATCH_SIZE)
        .map((content, j) => ({ type: 'text', title: `Document ${i + j}`, content }));
      const res = await fetch(`${app.url}/api/v1/chatbots/${bot.id}/sources/batch`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ sources }),
      });
      if (res.status !== 202) throw new Error(`POST answered ${res.status}`);
    }
  }
  for (let i = 0; way === 'single' && i < documents.length; i += 20) {
    await Promise.all(
      documents.slice(i, i + 20).map(async (content, j) => {
        const res = await fetch(`${app.url}/api/v1/chatbots/${bot.id}/sources`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ type: 'text', title: `Document ${i + j}`, content }),
        });
        if (res.status !== 202) throw new Error(`POST answered ${res.status}`);
      }),
    );
  }
  const accepted = performance.now() - started;
  const botId = new Types.ObjectId(bot.id);
  // What the workers still had to do once every POST was answered: their own rate, without the POSTs'.
  const readyAtAccepted = await app.models.Source.countDocuments({ chatbotId: botId, status: 'ready' });
  while (
    (await app.models.Source.countDocuments({ chatbotId: botId, status: { $in: ['ready', 'failed'] } })) < sourceCount
  ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Timed to the last source's own completion (its `readyAt`, stamped as its last write is sent; the app's clock is
  // this machine's), not to the poll that saw it: a poll every 100 ms would add up to a fifth to a run of half a second.
  const finished = await app.models.Source.find({ chatbotId: botId }, { readyAt: 1, updatedAt: 1 }).lean();
  const finishedAt = Math.max(...finished.map((source) => (source.readyAt ?? source.updatedAt).getTime()));
  const elapsed = (finishedAt - startedAt) / 1000;
  mongoose.set('debug', false);
  const cpuAfter = cpuNow(javaPid);
  const chunks = await app.models.Chunk.countDocuments({ chatbotId: botId });
  const failed = await app.models.Source.countDocuments({ chatbotId: botId, status: 'failed' });
  await stop();
  return {
    mode,
    way,
    commands,
    byCommand,
    cpuMs: { node: cpuAfter.node - cpuBefore.node, jvm: cpuAfter.jvm - cpuBefore.jvm },
    sources: sourceCount,
    chunks,
    failed,
    acceptedMs: accepted,
    readyAtAccepted,
    seconds: elapsed,
    rate: chunks / elapsed,
  };
}

/** Embeds in process with the test model server's own function, so the figures time retrieval, not a provider. */
const localEmbeddings: EmbeddingModel = {
  model: 'bench-embed',
  embed: async (texts) => texts.map((text) => Float32Array.from(embedText(text, DIMS))),
};

async function insertChunks(models: Models, orgId: Types.ObjectId, botId: Types.ObjectId, count: number) {
  const perSource = 100;
  const texts: string[] = [];
  for (let s = 0; s < count / perSource; s += 1) {
    const sourceId = new Types.ObjectId();
    await models.Source.create({
      _id: sourceId,
      organizationId: orgId,
      chatbotId: botId,
      type: 'text',
      title: `Source ${s}`,
      status: 'ready',
      activeRun: 'bench',
      chunks: perSource,
    });
    const docs = Array.from({ length: perSource }, (_, position) => {
      const text = paragraph();
      texts.push(text);
      return {
        organizationId: orgId,
        chatbotId: botId,
        sourceId,
        run: 'bench',
        position,
        title: `Source ${s}`,
        heading: `Section ${position}`,
        text,
        tokens: Math.ceil(text.length / 4),
        vector: fromVector(Float32Array.from(embedText(text, DIMS))),
        vectorModel: localEmbeddings.model,
      };
    });
    await models.Chunk.insertMany(docs, { ordered: false });
  }
  return texts;
}

async function retrievalAtSizes(dbUri: string) {
  const connection = await connectMongo(dbUri, { dbName: 'wisp_bench_retrieval' });
  await connection.dropDatabase();
  const models = createModels(connection);
  await ensureCollections(models);
  const cache = new IndexCache(models, 1);
  const resolver: ModelResolver = { forChatbot: async () => ({ chat: null, embeddings: localEmbeddings }) };
  const botModelSettings = (chatbotId: string) =>
    models.Chatbot.findById(chatbotId, { organizationId: 1, modelSettings: 1 }).lean();
  const lexical = new KnowledgeRetriever({ botModelSettings, cache, modelResolver: null, logger });
  const hybrid = new KnowledgeRetriever({ botModelSettings, cache, modelResolver: resolver, logger });
  const orgId = new Types.ObjectId();
  for (const size of SIZES) {
    const bot = await models.Chatbot.create({
      organizationId: orgId,
      name: `Bench ${size}`,
      slug: `bench-${size}`,
      identitySecretEncrypted: 'unused',
    });
    const target = { organizationId: orgId.toString(), chatbotId: bot._id.toString() };
    let started = performance.now();
    const texts = await insertChunks(models, orgId, bot._id, size);
    const insertSeconds = (performance.now() - started) / 1000;
    await cache.bump(target.organizationId, target.chatbotId);
    collectGarbage();
    const before = process.memoryUsage();
    started = performance.now();
    await lexical.retrieve(target, 'warm up');
    await hybrid.retrieve(target, 'warm up');
    const buildMs = performance.now() - started;
    collectGarbage();
    const memory = process.memoryUsage();
    // Queries are four words of a random chunk, as a visitor's question shares a few words with its answer.
    const queries = Array.from({ length: QUERIES }, () => {
      const words = (texts[Math.floor(rand() * texts.length)] ?? '').replace(/\./g, '').split(' ');
      const at = Math.floor(rand() * Math.max(1, words.length - 4));
      return words.slice(at, at + 4).join(' ');
    });
    const timings: Record<'lexical' | 'hybrid', number[]> = { lexical: [], hybrid: [] };
    // This process's CPU time per query (the version read's share in the database's JVM left out): the load of
    // a shared machine weighs on it far less than on the wall-clock percentiles.
    const cpuPerQuery: Record<'lexical' | 'hybrid', number> = { lexical: 0, hybrid: 0 };
    const loadAtStart = loadavg()[0]!;
    for (const [name, retriever] of [
      ['lexical', lexical],
      ['hybrid', hybrid],
    ] as const) {
      // Each phase starts from a collected heap, so one phase's garbage does not land in the other's figures.
      collectGarbage();
      const cpuAtStart = process.cpuUsage();
      for (const query of queries) {
        const t0 = performance.now();
        await retriever.retrieve(target, query);
        timings[name].push(performance.now() - t0);
      }
      const cpu = process.cpuUsage(cpuAtStart);
      cpuPerQuery[name] = (cpu.user + cpu.system) / 1000 / queries.length;
    }
    const latency = (name: keyof typeof timings) =>
      `p50 ${ms(percentile(timings[name], 50))} p99 ${ms(percentile(timings[name], 99))} ` +
      `(CPU ${cpuPerQuery[name].toFixed(2)} ms a query)`;
    // `external` holds array buffers and WebAssembly memories (where the vector prefilter lives) alike.
    const indexMemory = memory.heapUsed + memory.external - before.heapUsed - before.external;
    console.log(
      `${size} chunks: insert ${Math.round(size / insertSeconds)} chunks/s, index build ${ms(buildMs)}, ` +
        `lexical ${latency('lexical')}, hybrid ${latency('hybrid')}, rss ${mb(memory.rss)}, index +${mb(indexMemory)} ` +
        `(${Math.round(indexMemory / size)} B/chunk); load average ${loadAtStart.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`,
    );
    cache.forget(target);
  }
  await connection.close();
}

async function main() {
  const db = await startEmbeddedDb();
  const fake = await startFakeLlm({ embeddingDims: DIMS });
  try {
    if (PARTS.includes('ingestion')) {
      console.log(
        `Ingestion through the API: text sources of about 5,000 characters, ${INGEST_SOURCES.single} posted one by one (20 at a time), ${INGEST_SOURCES.batch} in batches of ${BATCH_SIZE}`,
      );
    }
    const runs = INGEST_MODES.flatMap((mode) =>
      INGEST_WAYS.flatMap((way) => Array.from({ length: INGEST_REPEAT }, () => [mode, way] as const)),
    );
    for (const [mode, way] of PARTS.includes('ingestion') ? runs : []) {
      const result = await ingestThroughput(db.uri, mode, way, fake.url, db.pid);
      const posts =
        way === 'batch' ? `${Math.ceil(result.sources / BATCH_SIZE)} batch POSTs` : `${result.sources} POSTs`;
      if (process.env.BENCH_COMMANDS) {
        const top = [...result.byCommand].sort((a, b) => b[1] - a[1]).slice(0, 12);
        console.log(`  commands: ${top.map(([name, count]) => `${name} ${count}`).join(', ')}`);
      }
      console.log(
        `${mode}, ${way}: ${result.chunks} chunks in ${result.seconds.toFixed(1)} s = ${Math.round(result.rate)} chunks/s ` +
          `(all ${posts} answered 202 within ${Math.round(result.acceptedMs)} ms, ${result.failed} failed; ` +
          `${(result.commands / result.sources).toFixed(1)} database commands and ` +
          `${(result.cpuMs.node / result.sources).toFixed(1)} + ${(result.cpuMs.jvm / result.sources).toFixed(1)} ms CPU ` +
          `(node + database) per source); ` +
          `then ${result.sources - result.readyAtAccepted} sources left, ready in ` +
          `${(result.seconds - result.acceptedMs / 1000).toFixed(1)} s = ` +
          `${Math.round((result.sources - result.readyAtAccepted) / (result.seconds - result.acceptedMs / 1000))} sources/s`,
      );
    }
    if (!PARTS.includes('retrieval')) return;
    console.log(`\nRetrieval for one bot (${DIMS}-dimension vectors, ${QUERIES} queries per mode, warm index)`);
    await retrievalAtSizes(db.uri);
  } finally {
    await fake.stop();
    await db.stop();
  }
}

await main();
