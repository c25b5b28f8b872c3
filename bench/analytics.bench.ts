/**
 * Analytics bench: `GET /api/v1/analytics` over one bot with 100k messages (50k questions and their answers in
 * 10k conversations, spread over the last 30 days) on the embedded database in memory. The history is inserted
 * behind the app's back, like history from before the rollups existed, and rolled up by the backfill the app
 * runs in the background at start (timed here). Prints the first request, p50/p95 of repeated requests (one
 * bot and the organization, by day in UTC and in Asia/Kolkata, by week), the time a chat turn takes, and
 * p50/p95 of a request made right after a chat turn. Run: npx tsx bench/analytics.bench.ts
 */
import { Types } from 'mongoose';
import { startBenchApp } from './bench-app.js';
import { HistoryBuilder } from '../server/analytics/analytics.fixtures.js';
import { startEmbeddedDb } from '../server/db/embedded-db.js';

const MESSAGES = Number(process.env.BENCH_ANALYTICS_MESSAGES ?? 100_000);
const TURNS_PER_CONVERSATION = 5;
const REQUESTS = Number(process.env.BENCH_ANALYTICS_REQUESTS ?? 40);
const DAYS = 30;
const QUESTIONS = Array.from({ length: 200 }, (_, i) => `How do I use feature ${i % 200}?`);
const SOURCES = Array.from({ length: 20 }, (_, i) => ({ sourceId: `src-${i}`, title: `Guide ${i}` }));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (value: number) => `${Math.round(value)} ms`;

/** A deterministic pseudo-random sequence, so every run seeds the same history. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function seedHistory(organizationId: string, chatbotId: string): HistoryBuilder {
  const history = new HistoryBuilder(new Types.ObjectId(organizationId), new Types.ObjectId(chatbotId));
  const next = random(42);
  const start = Date.now() - DAYS * 86_400_000;
  const conversations = MESSAGES / 2 / TURNS_PER_CONVERSATION;
  for (let c = 0; c < conversations; c += 1) {
    let at = start + Math.floor(next() * (DAYS * 86_400_000 - 3_600_000));
    const widget = next() < 0.7;
    const conversation = history.conversation(new Date(at), {
      channel: widget ? 'widget' : 'api',
      ...(widget ? { visitorId: `visitor-${Math.floor(next() * 3_000)}` } : { sessionId: `session-${c}` }),
    });
    for (let turn = 0; turn < TURNS_PER_CONVERSATION; turn += 1) {
      at += 5_000 + Math.floor(next() * 60_000);
      const confidence = next();
      conversation.turn(new Date(at), QUESTIONS[Math.floor(next() * QUESTIONS.length)]!, {
        status: next() < 0.02 ? 'failed' : 'complete',
        error: 'The model is unavailable',
        confidence,
        sources: confidence < 0.1 ? [] : [SOURCES[Math.floor(next() * SOURCES.length)]!],
        promptTokens: 300 + Math.floor(next() * 500),
        completionTokens: 20 + Math.floor(next() * 200),
        firstTokenMs: 50 + Math.floor(next() * 900),
        feedback: next() < 0.05 ? 'up' : next() < 0.03 ? 'down' : null,
      });
    }
  }
  return history;
}

async function main() {
  const db = await startEmbeddedDb();
  const { app, org, bot, stop } = await startBenchApp({ dbUri: db.uri, dbName: 'wisp_bench_analytics' });
  try {
    const history = seedHistory(org.id, bot.id);
    const started = performance.now();
    await history.insert(app.models);
    console.log(
      `Seeded ${history.messages.length} messages in ${history.conversations.length} conversations of one bot ` +
        `over ${DAYS} days in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const headers = { authorization: `Bearer ${org.adminKey}`, 'content-type': 'application/json' };
    const get = async (query: string) => {
      const begun = performance.now();
      const res = await fetch(`${app.url}/api/v1/analytics?${query}`, { headers });
      const body = (await res.json()) as { data: { totals: { visitorMessages: number; answers: number } } };
      if (res.status !== 200) throw new Error(`analytics answered ${res.status}: ${JSON.stringify(body)}`);
      return { elapsed: performance.now() - begun, totals: body.data.totals };
    };

    const backfillStarted = performance.now();
    await app.services.rollups.idle();
    await app.services.rollups.backfill([bot.id]);
    console.log(`Backfill of the history (background, at start): ${ms(performance.now() - backfillStarted)}`);
    const first = await get(`chatbotId=${bot.id}`);
    console.log(
      `First request: ${ms(first.elapsed)}; ` +
        `${first.totals.visitorMessages} visitor messages, ${first.totals.answers} answers in the last 30 days`,
    );
    const cases = [
      ['one bot, 30 days by day, UTC', `chatbotId=${bot.id}`],
      ['one bot, 30 days by day, Asia/Kolkata', `chatbotId=${bot.id}&timezone=Asia/Kolkata`],
      ['one bot, 30 days by week', `chatbotId=${bot.id}&granularity=week`],
      ['organization, 30 days by day', ''],
    ] as const;
    for (const [name, query] of cases) {
      const timings: number[] = [];
      for (let i = 0; i < REQUESTS; i += 1) timings.push((await get(query)).elapsed);
      console.log(
        `${name}: p50 ${ms(percentile(timings, 50))}, p95 ${ms(percentile(timings, 95))} (${REQUESTS} requests)`,
      );
    }

    // As on a server that has not read these days yet (just started, or another node): every day read in full.
    const cold: number[] = [];
    for (let i = 0; i < Math.min(REQUESTS, 20); i += 1) {
      app.services.rollups.forgetCachedDays();
      cold.push((await get(`chatbotId=${bot.id}`)).elapsed);
    }
    console.log(
      `one bot, 30 days by day, no day in memory: p50 ${ms(percentile(cold, 50))}, p95 ${ms(percentile(cold, 95))} ` +
        `(${cold.length} requests)`,
    );

    const afterTurn: number[] = [];
    const turnTimes: number[] = [];
    const turns = Math.min(REQUESTS, 20);
    for (let i = 0; i < turns; i += 1) {
      const turnStarted = performance.now();
      const chat = await fetch(`${app.url}/api/v1/chat`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ chatbotId: bot.id, message: `Is there news ${i}?` }),
      });
      if (chat.status !== 200) throw new Error(`chat answered ${chat.status}`);
      turnTimes.push(performance.now() - turnStarted);
      afterTurn.push((await get(`chatbotId=${bot.id}`)).elapsed);
    }
    console.log(
      `one bot, right after a chat turn: p50 ${ms(percentile(afterTurn, 50))}, ` +
        `p95 ${ms(percentile(afterTurn, 95))} (${turns} requests); the chat turns themselves: ` +
        `p50 ${ms(percentile(turnTimes, 50))}, p95 ${ms(percentile(turnTimes, 95))}`,
    );
    const last = await get(`chatbotId=${bot.id}`);
    if (last.totals.visitorMessages !== first.totals.visitorMessages + turns) {
      throw new Error(
        `the rollups missed turns: ${last.totals.visitorMessages} visitor messages, expected ${first.totals.visitorMessages + turns}`,
      );
    }
  } finally {
    await stop();
    await db.stop();
  }
}

await main();
