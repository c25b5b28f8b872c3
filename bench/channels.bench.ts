/**
 * Channels bench: how fast a Telegram delivery is acknowledged (platforms time out: Slack after 3 s) and how
 * long until its answer reaches the platform, through the real app, the embedded database, the fake model
 * and the loopback Telegram fake. Part 1: sequential deliveries, each waited for until answered. Part 2: a
 * burst of concurrent deliveries (autocannon), then the time until every answer is delivered.
 * Run: npx tsx bench/channels.bench.ts
 */
import autocannon from 'autocannon';
import { startPlatformFakes } from '../server/channels/test/platform-fakes.js';
import { startEmbeddedDb } from '../server/db/embedded-db.js';
import { startFakeLlm } from '../server/test/fake-llm/fake-llm.server.js';
import { startBenchApp } from './bench-app.js';

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 100);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const CONNECTIONS = 16;
const TOKEN = '555555:AABenchToken';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function main() {
  const db = await startEmbeddedDb();
  const [fake, fakes] = await Promise.all([startFakeLlm(), startPlatformFakes()]);
  fakes.acceptToken(TOKEN);
  const { app, org, bot, stop } = await startBenchApp({
    dbUri: db.uri,
    dbName: 'wisp_bench_channels',
    env: {
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'bench',
      OPENAI_MODEL: 'fake-chat',
      ALLOW_PRIVATE_URLS: 'true',
      TELEGRAM_API_BASE_URL: fakes.telegramUrl,
    },
  });
  const created = await fetch(`${app.url}/api/v1/chatbots/${bot.id}/channels`, {
    method: 'POST',
    headers: { authorization: `Bearer ${org.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'telegram', credentials: { botToken: TOKEN } }),
  });
  const channelId = ((await created.json()) as { data: { id: string } }).data.id;
  const secret = String(fakes.callsOf('setWebhook')[0]?.body.secret_token);
  const inbound = `${app.url}/api/v1/channels/${channelId}/events`;
  const headers = { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': secret };
  let updateId = 0;
  const update = (text: string) => {
    updateId += 1;
    return JSON.stringify({
      update_id: updateId,
      message: {
        message_id: updateId,
        text,
        from: { id: updateId % 50, first_name: 'B' },
        chat: { id: updateId % 50 },
      },
    });
  };
  const delivered = () => fakes.callsOf('sendMessage').length;

  const acks: number[] = [];
  const answers: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i += 1) {
    const before = delivered();
    const started = performance.now();
    const res = await fetch(inbound, { method: 'POST', headers, body: update(`question ${i}`) });
    acks.push(performance.now() - started);
    if (res.status !== 200) throw new Error(`delivery answered ${res.status}`);
    await until(() => delivered() > before, 30_000);
    answers.push(performance.now() - started);
  }
  acks.sort((a, b) => a - b);
  answers.sort((a, b) => a - b);

  const beforeBurst = delivered();
  const burst = await autocannon({
    url: inbound,
    method: 'POST',
    headers,
    connections: CONNECTIONS,
    duration: DURATION_S,
    requests: [{ setupRequest: (request) => ({ ...request, body: update('burst question') }) }],
  });
  const drainStarted = performance.now();
  const expected = beforeBurst + burst['2xx'];
  await until(() => delivered() >= expected, 600_000);
  const drainS = (performance.now() - drainStarted) / 1000;

  console.log(`Channels bench (Telegram fake, model server with zero latency)`);
  console.log(
    `Sequential (${SEQUENTIAL}): acknowledged p50 ${percentile(acks, 50).toFixed(1)} ms, p99 ${percentile(acks, 99).toFixed(1)} ms; answer delivered p50 ${percentile(answers, 50).toFixed(1)} ms, p99 ${percentile(answers, 99).toFixed(1)} ms`,
  );
  console.log(
    `Burst (${CONNECTIONS} connections, ${DURATION_S} s): ${burst.requests.average.toFixed(1)} deliveries/s acknowledged, p50 ${burst.latency.p50} ms, p99 ${burst.latency.p99} ms, max ${burst.latency.max} ms, non-2xx ${burst.non2xx}`,
  );
  console.log(
    `All ${burst['2xx']} burst answers delivered ${drainS.toFixed(1)} s after the burst ended (${(burst['2xx'] / (DURATION_S + drainS)).toFixed(1)} answers/s overall)`,
  );

  await stop();
  await Promise.all([fake.stop(), fakes.stop()]);
  await db.stop();
}

await main();
