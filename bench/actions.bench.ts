/**
 * Actions bench: what one tool round trip adds to a chat turn. Sequential JSON chat turns through the real app
 * and the embedded database, against the test model server (zero latency) and a loopback shop: a plain turn
 * versus a turn where the model calls an order lookup and answers from it (two model calls and one HTTP call),
 * and the action alone through `POST /actions/:id/run`. Run: npx tsx bench/actions.bench.ts
 */
import { startBenchApp } from './bench-app.js';
import { startEmbeddedDb } from '../server/db/embedded-db.js';
import { startFakeLlm } from '../server/test/fake-llm/fake-llm.server.js';
import { startFakeShop } from '../server/test/fake-shop.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 200);

function summary(samples: number[]): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  return { p50: at(50), p99: at(99) };
}

async function main() {
  const db = await startEmbeddedDb();
  const [fake, shop] = await Promise.all([startFakeLlm(), startFakeShop()]);
  const { app, org, bot, connection, stop } = await startBenchApp({
    dbUri: db.uri,
    dbName: 'wisp_bench_actions',
    env: {
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'bench',
      OPENAI_MODEL: 'fake-chat',
      URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1',
    },
  });
  const headers = { authorization: `Bearer ${org.adminKey}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${app.url}/api/v1${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { data: Record<string, unknown> };
  };
  const plainBot = await app.services.chatbots.create(org.id, {
    name: 'Plain',
    instructions: 'Be brief.',
    modelSettings: { integrationId: null, model: null, temperature: 0.3, maxTokens: 800 },
    allowedOrigins: [],
    status: 'active',
  });
  const action = await post(`/chatbots/${bot.id}/actions`, {
    name: 'order_status',
    description: 'Status of an order',
    parameters: { type: 'object', properties: { orderNumber: { type: 'string' } }, required: ['orderNumber'] },
    request: { method: 'GET', url: `${shop.url}/api/orders/{params.orderNumber}` },
    responseFields: ['status'],
  });
  const time = async (run: () => Promise<unknown>) => {
    const samples: number[] = [];
    for (let i = 0; i < SAMPLES; i += 1) {
      const started = performance.now();
      await run();
      samples.push(performance.now() - started);
    }
    return summary(samples);
  };
  const plain = await time(() => post('/chat', { chatbotId: plainBot.id, message: 'Where is my order 1001?' }));
  const withTool = await time(() =>
    post('/chat', { chatbotId: bot.id, message: 'Where is my order? #tool:order_status {"orderNumber":"1001"}' }),
  );
  const direct = await time(() =>
    post(`/actions/${String(action.data.id)}/run`, { parameters: { orderNumber: '1001' } }),
  );

  // Database round trips of the action records per chat tool call (intent, run): mongoose's debug hook sees every
  // collection call, one per round trip.
  const COUNTED = 20;
  const recordCalls = new Map<string, number>();
  connection.set('debug', (collection: string, method: string) => {
    if (collection !== 'action_runs' && collection !== 'action_call_intents') return;
    const key = `${collection}.${method}`;
    recordCalls.set(key, (recordCalls.get(key) ?? 0) + 1);
  });
  for (let i = 0; i < COUNTED; i += 1)
    await post('/chat', { chatbotId: bot.id, message: `Where is my order? #tool:order_status {"orderNumber":"${i}"}` });
  connection.set('debug', false);
  const recordTrips = [...recordCalls.values()].reduce((sum, n) => sum + n, 0) / COUNTED;

  console.log(`Actions bench (${SAMPLES} sequential requests each, model server and shop on loopback, zero latency)`);
  console.log(`plain chat turn:            p50 ${plain.p50.toFixed(1)} ms, p99 ${plain.p99.toFixed(1)} ms`);
  console.log(`turn with one tool call:    p50 ${withTool.p50.toFixed(1)} ms, p99 ${withTool.p99.toFixed(1)} ms`);
  console.log(`tool round trip adds:       p50 ${(withTool.p50 - plain.p50).toFixed(1)} ms`);
  console.log(`POST /actions/:id/run:      p50 ${direct.p50.toFixed(1)} ms, p99 ${direct.p99.toFixed(1)} ms`);
  console.log(
    `action records per chat tool call: ${recordTrips} round trips (${[...recordCalls].map(([k, n]) => `${k} ${n / COUNTED}`).join(', ')})`,
  );
  await stop();
  await Promise.all([fake.stop(), shop.stop()]);
  await db.stop();
}

await main();
