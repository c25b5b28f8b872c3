/**
 * A continuing JSON chat turn (one more question in an existing conversation, so the turn reads its history) with
 * 1k and 100k messages of other conversations in the database: per turn, the median latency and the CPU of the
 * database's JVM and of the app. Sequential turns, the model server in its own process, the app as sole server.
 * With `BENCH_BASELINE_JAR` (another build of the launcher, e.g. main's) both are measured in the same run,
 * alternately. Run: npx tsx bench/continuing-turn.bench.ts (`BENCH_SIZES`, default 1000,100000; `BENCH_TURNS`,
 * default 100; `BENCH_DB_FILE=1` on an H2 file).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { ObjectId } from 'mongodb';
import { EMBEDDED_DB_JAR, startEmbeddedDb } from '../server/db/embedded-db.js';
import { processCpuMs, startBenchApp, startModelProcess } from './bench-app.js';
import { percentile } from './percentile.js';

const SIZES = (process.env.BENCH_SIZES ?? '1000,100000').split(',').map(Number);
const TURNS = Number(process.env.BENCH_TURNS ?? 100);
const JARS: Array<[string, string]> = [['this build', EMBEDDED_DB_JAR]];
if (process.env.BENCH_BASELINE_JAR) JARS.unshift(['baseline', process.env.BENCH_BASELINE_JAR]);

const model = await startModelProcess();
const dir = mkdtempSync(path.join(tmpdir(), 'wisp-continuing-turn-'));
try {
  for (const size of SIZES) {
    for (const [label, jar] of JARS) {
      const file = path.join(dir, `${label.replace(' ', '-')}-${size}.mv`);
      const db = await startEmbeddedDb({ jar, ...(process.env.BENCH_DB_FILE === '1' ? { file } : {}) });
      const bench = await startBenchApp({
        dbUri: db.uri,
        dbName: 'wisp_bench_continuing_turn',
        soleServer: true,
        env: { OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'bench', OPENAI_MODEL: 'fake-chat' },
      });
      const headers = { authorization: `Bearer ${bench.org.adminKey}`, 'content-type': 'application/json' };
      const ask = async (conversationId?: string) => {
        const body = JSON.stringify({
          chatbotId: bench.bot.id,
          message: 'How do I reset my password?',
          conversationId,
        });
        const res = await fetch(`${bench.app.url}/api/v1/chat`, { method: 'POST', headers, body });
        const answer = (await res.json()) as { data: { conversationId: string } | null };
        if (!answer.data) throw new Error(`the turn failed: ${JSON.stringify(answer)}`);
        return answer.data.conversationId;
      };
      const conversationId = await ask();
      // Other conversations' messages, ten a conversation, as the app stores them.
      const messages = bench.connection.db!.collection('messages');
      for (let i = 0; i < size; i += 2000) {
        const at = new Date();
        await messages.insertMany(
          Array.from({ length: Math.min(2000, size - i) }, (_, j) => ({
            organizationId: new ObjectId(bench.org.id),
            chatbotId: new ObjectId(bench.bot.id),
            conversationId: new ObjectId(
              Math.floor((i + j) / 10)
                .toString(16)
                .padStart(24, '0'),
            ),
            role: (i + j) % 2 ? 'assistant' : 'user',
            content: 'an earlier message '.repeat(12),
            status: 'complete',
            clientMessageId: `m${i + j}`,
            pendingAction: null,
            takenAction: null,
            heartbeatAt: null,
            createdAt: at,
            updatedAt: at,
          })),
        );
      }
      for (let i = 0; i < 20; i += 1) await ask(conversationId);
      const load = loadavg()[0]!;
      const appCpu = process.cpuUsage();
      const dbCpu = processCpuMs(db.pid);
      const latencies: number[] = [];
      for (let i = 0; i < TURNS; i += 1) {
        const started = performance.now();
        await ask(conversationId);
        latencies.push(performance.now() - started);
      }
      const app = process.cpuUsage(appCpu);
      console.log(
        `${size} other messages, ${label}: p50 ${percentile(latencies, 50).toFixed(1)} ms a turn, database JVM ${((processCpuMs(db.pid) - dbCpu) / TURNS).toFixed(2)} ms, app ${((app.user + app.system) / 1000 / TURNS).toFixed(2)} ms (load ${load.toFixed(1)})`,
      );
      await bench.stop();
      await db.stop();
      rmSync(file, { force: true });
    }
  }
} finally {
  await model.stop();
  rmSync(dir, { recursive: true, force: true });
}
