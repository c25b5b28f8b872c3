/**
 * Chat turns, for comparing two versions of the code on a shared machine: in rounds that start on 20-second
 * wall-clock boundaries, 8 connections of JSON chat turns for 8 s, then sequential turns for 8 s. Start it in
 * two checkouts at the same moment and their rounds drive load at the same time, so the machine's load (other
 * work on the same cores) weighs on both alike; compare round by round.
 * Run: npx tsx bench/chat-turns.bench.ts (BENCH_ROUNDS, default 3)
 */
import { startBenchApp } from './bench-app.js';
import { startEmbeddedDb } from '../server/db/embedded-db.js';
import { startFakeLlm } from '../server/test/fake-llm/fake-llm.server.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PHASE_MS = 8_000;
const BOUNDARY_MS = 20_000;
const CONNECTIONS = 8;

const nextBoundary = () => new Promise((resolve) => setTimeout(resolve, BOUNDARY_MS - (Date.now() % BOUNDARY_MS)));

async function main() {
  const db = await startEmbeddedDb();
  const fake = await startFakeLlm();
  const { app, org, bot, stop } = await startBenchApp({
    dbUri: db.uri,
    dbName: 'wisp_bench_chat_turns',
    env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'bench', OPENAI_MODEL: 'fake-chat' },
  });
  const headers = { authorization: `Bearer ${org.adminKey}`, 'content-type': 'application/json' };
  const body = JSON.stringify({ chatbotId: bot.id, message: 'How do I reset my password?' });
  const turn = async () => {
    const started = performance.now();
    const res = await fetch(`${app.url}/api/v1/chat`, { method: 'POST', headers, body });
    await res.text();
    if (res.status !== 200) throw new Error(`a turn answered ${res.status}`);
    return performance.now() - started;
  };
  for (let i = 0; i < 30; i += 1) await turn();
  console.log(`Chat turns (${CONNECTIONS} connections then sequential, ${PHASE_MS / 1000} s each, per round)`);
  for (let round = 1; round <= ROUNDS; round += 1) {
    await nextBoundary();
    const started = performance.now();
    let done = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() - started < PHASE_MS) {
          await turn();
          done += 1;
        }
      }),
    );
    const throughput = done / ((performance.now() - started) / 1000);
    const sequential: number[] = [];
    const sequentialStart = performance.now();
    while (performance.now() - sequentialStart < PHASE_MS) sequential.push(await turn());
    sequential.sort((a, b) => a - b);
    const p50 = sequential[Math.floor(sequential.length / 2)]!;
    console.log(
      `round ${round}: ${throughput.toFixed(1)} turns/s on ${CONNECTIONS} connections; sequential p50 ${p50.toFixed(1)} ms (${sequential.length} turns)`,
    );
  }
  await stop();
  await fake.stop();
  await db.stop();
}

await main();
