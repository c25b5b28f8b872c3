/**
 * Chat engine bench: JSON chat requests/s and p50/p99 through the real app and the
 * embedded database, against the test model server with zero added latency; and the
 * time to the first streamed chunk through the SSE path versus calling the model server
 * directly, in the same run. Run: npx tsx bench/chat.bench.ts
 */
import autocannon from 'autocannon';
import { startBenchApp } from './bench-app.js';
import { startEmbeddedDb } from '../server/db/embedded-db.js';
import { startFakeLlm } from '../server/test/fake-llm/fake-llm.server.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = 16;
const TTFC_SAMPLES = 200;
const COUNTED_TURNS = 20;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timeToFirstChunk(url: string, init: RequestInit, marker: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, init);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let seen = '';
  let first = NaN;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += decoder.decode(value, { stream: true });
    if (Number.isNaN(first) && seen.includes(marker)) first = performance.now() - started;
  }
  return first;
}

async function main() {
  const db = await startEmbeddedDb();
  const fake = await startFakeLlm();
  const { app, org, bot, stop, connection } = await startBenchApp({
    dbUri: db.uri,
    dbName: 'wisp_bench_chat',
    env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'bench', OPENAI_MODEL: 'fake-chat' },
  });
  const headers = { authorization: `Bearer ${org.adminKey}`, 'content-type': 'application/json' };

  const json = await autocannon({
    url: `${app.url}/api/v1/chat`,
    method: 'POST',
    headers,
    body: JSON.stringify({ chatbotId: bot.id, message: 'How do I reset my password?' }),
    connections: CONNECTIONS,
    duration: DURATION_S,
  });

  // Database round trips per turn: mongoose's debug hook sees every collection call (one per round trip,
  // an insertMany or bulkWrite counts once), for sequential JSON turns on a warm server.
  const counted = JSON.stringify({ chatbotId: bot.id, message: 'How do I reset my password?' });
  await fetch(`${app.url}/api/v1/chat`, { method: 'POST', headers, body: counted }).then((res) => res.text());
  const calls = new Map<string, number>();
  connection.set('debug', (collection: string, method: string) => {
    const key = `${collection}.${method}`;
    calls.set(key, (calls.get(key) ?? 0) + 1);
  });
  for (let i = 0; i < COUNTED_TURNS; i += 1) {
    await fetch(`${app.url}/api/v1/chat`, { method: 'POST', headers, body: counted }).then((res) => res.text());
  }
  // Writes after the answer (counters, analytics) may land just after the response: let them settle.
  await new Promise((resolve) => setTimeout(resolve, 500));
  connection.set('debug', false);
  const total = [...calls.values()].reduce((sum, n) => sum + n, 0);

  const body = JSON.stringify({ chatbotId: bot.id, message: 'How do I reset my password?', stream: true });
  const direct = JSON.stringify({
    model: 'fake-chat',
    stream: true,
    messages: [{ role: 'user', content: 'How do I reset my password?' }],
  });
  const viaApp: number[] = [];
  const viaModel: number[] = [];
  for (let i = 0; i < TTFC_SAMPLES; i += 1) {
    viaModel.push(
      await timeToFirstChunk(
        `${fake.url}/chat/completions`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: direct },
        '"content"',
      ),
    );
    viaApp.push(await timeToFirstChunk(`${app.url}/api/v1/chat`, { method: 'POST', headers, body }, '"chunk"'));
  }
  viaApp.sort((a, b) => a - b);
  viaModel.sort((a, b) => a - b);

  console.log(`Chat engine bench (${DURATION_S} s, ${CONNECTIONS} connections, model server with zero latency)`);
  console.log(
    `JSON chat: ${json.requests.average.toFixed(1)} req/s, p50 ${json.latency.p50} ms, p99 ${json.latency.p99} ms, errors ${json.errors}, non-2xx ${json.non2xx}`,
  );
  console.log(
    `Database round trips per JSON turn: ${(total / COUNTED_TURNS).toFixed(1)} (${COUNTED_TURNS} sequential turns)`,
  );
  const perTurn = [...calls.entries()].sort((a, b) => b[1] - a[1]);
  console.log(`  by call: ${perTurn.map(([call, n]) => `${call} ${(n / COUNTED_TURNS).toFixed(1)}`).join(', ')}`);
  if (process.env.BENCH_DUMP) {
    for (const [key, n] of [...calls].sort((a, b) => b[1] - a[1]))
      console.log(`  ${key}: ${(n / COUNTED_TURNS).toFixed(2)}`);
  }
  console.log(
    `SSE time to first chunk via the API: p50 ${percentile(viaApp, 50).toFixed(1)} ms, p99 ${percentile(viaApp, 99).toFixed(1)} ms (${TTFC_SAMPLES} sequential requests)`,
  );
  console.log(
    `Time to first chunk calling the model server directly: p50 ${percentile(viaModel, 50).toFixed(1)} ms, p99 ${percentile(viaModel, 99).toFixed(1)} ms`,
  );
  console.log(
    `Added by the API's SSE path: p50 ${(percentile(viaApp, 50) - percentile(viaModel, 50)).toFixed(1)} ms, p99 ${(percentile(viaApp, 99) - percentile(viaModel, 99)).toFixed(1)} ms`,
  );

  await stop();
  await fake.stop();
  await db.stop();
}

await main();
