/**
 * The model client's CPU per streamed completion: the server's `OpenAiChatModel` (the openai package) streaming a
 * chat completion from the test model server, in its own process, on the platform's `fetch` and on `modelFetch`
 * (undici's `request`, which the server uses), alternating rounds in one process so both see the same machine.
 * Run: npx tsx bench/model-client.bench.ts (`BENCH_CALLS`, default 2000 per round, 8 at a time; `BENCH_ROUNDS`, 3).
 */
import { loadavg } from 'node:os';
import { modelFetch } from '../server/llm/model-fetch.js';
import { OpenAiChatModel } from '../server/llm/openai-models.js';
import { startModelProcess } from './bench-app.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = 8;

const model = await startModelProcess();
const clients = {
  "the platform's fetch": new OpenAiChatModel('fake-chat', { baseURL: model.url, apiKey: 'bench' }),
  modelFetch: new OpenAiChatModel('fake-chat', { baseURL: model.url, apiKey: 'bench', chatFetch: modelFetch() }),
};
const question = [
  { role: 'system' as const, content: 'Be brief.' },
  { role: 'user' as const, content: 'How do I reset my password?' },
];

async function complete(client: OpenAiChatModel): Promise<void> {
  const options = { signal: new AbortController().signal, temperature: 0.3, maxTokens: 800 };
  for await (const part of client.stream(question, options)) if (part.type === 'finish') return;
}

async function run(client: OpenAiChatModel, calls: number): Promise<number> {
  const before = process.cpuUsage();
  let left = calls;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) await complete(client);
    }),
  );
  const cpu = process.cpuUsage(before);
  return (cpu.user + cpu.system) / 1000 / calls;
}

for (const client of Object.values(clients)) await run(client, 300);
for (let round = 1; round <= ROUNDS; round += 1) {
  for (const [name, client] of Object.entries(clients)) {
    const load = loadavg()[0]!;
    const ms = await run(client, CALLS);
    console.log(
      `round ${round}, ${name}: ${ms.toFixed(3)} ms CPU per streamed completion (${CALLS} calls, ${CONCURRENCY} at a time, load average ${load.toFixed(1)})`,
    );
  }
}
await model.stop();
