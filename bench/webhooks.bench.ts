/**
 * Webhooks bench: the real app on the embedded database (in memory) and one fast receiver on loopback that
 * verifies every signature with the `standardwebhooks` package and answers 200. Events are published on the
 * app's domain-event bus, as a service publishes them; the time from publish to the receiver having the
 * request is the event-to-delivery latency. First one event at a time (an idle system), then a burst
 * (throughput: deliveries per second until the last one arrived).
 * Run: npx tsx bench/webhooks.bench.ts (BENCH_SEQUENTIAL=200 BENCH_BURST=1000 by default)
 */
import { Types } from 'mongoose';
import { startEmbeddedDb } from '../server/db/embedded-db.js';
import { WebhookReceiver } from '../server/test/webhook-receiver.js';
import { startBenchApp } from './bench-app.js';
import { percentile } from './percentile.js';

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL ?? 200);
const BURST = Number(process.env.BENCH_BURST ?? 1000);

const ms = (value: number) => `${value.toFixed(1)} ms`;

async function main() {
  const db = await startEmbeddedDb();
  const { app, org, bot, stop } = await startBenchApp({
    dbUri: db.uri,
    dbName: 'wisp_bench_webhooks',
    env: { URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1', WEBHOOK_POLL_MS: '200' },
  });
  const receiver = await WebhookReceiver.start();
  const created = await app.services.webhooks.service.create(org.id, {
    url: receiver.url,
    events: ['lead.created'],
    description: 'bench',
    enabled: true,
    chatbotId: null,
  });
  receiver.useSecret(created.secret);

  const publishedAt = new Map<string, number>();
  const publish = () => {
    const leadId = new Types.ObjectId().toString();
    publishedAt.set(leadId, performance.now());
    app.services.events.notify('lead.created', {
      organizationId: org.id,
      chatbotId: bot.id,
      leadId,
      conversationId: null,
      fields: { email: 'bench@example.com', name: 'Bench' },
      source: 'api',
    });
  };
  const latencies = (from: number) =>
    receiver.received.slice(from).map((request) => {
      const leadId = (request.verified?.data.leadId as string | undefined) ?? '';
      return request.receivedAt - (publishedAt.get(leadId) ?? NaN);
    });

  for (let n = 0; n < SEQUENTIAL; n += 1) {
    publish();
    await receiver.waitFor(n + 1);
  }
  const idle = latencies(0);

  const burstStart = performance.now();
  for (let n = 0; n < BURST; n += 1) publish();
  await receiver.waitFor(SEQUENTIAL + BURST, () => true, 600_000);
  const burstSeconds = (performance.now() - burstStart) / 1000;
  const burst = latencies(SEQUENTIAL);
  const unverified = receiver.received.filter((request) => request.verifyError !== null).length;
  const duplicates = receiver.received.length - new Set(receiver.received.map((request) => request.id)).size;

  console.log('Webhooks bench (one endpoint, one receiver answering 200 on loopback, embedded database in memory)');
  console.log(
    `One event at a time (${SEQUENTIAL}): event-to-delivery p50 ${ms(percentile(idle, 50))}, p99 ${ms(percentile(idle, 99))}`,
  );
  console.log(
    `Burst of ${BURST}: ${(BURST / burstSeconds).toFixed(1)} deliveries/s (${burstSeconds.toFixed(1)} s), event-to-delivery p50 ${ms(percentile(burst, 50))}, p99 ${ms(percentile(burst, 99))}`,
  );
  console.log(`Signatures that failed verification: ${unverified}; deliveries received twice: ${duplicates}`);

  await receiver.stop();
  await stop();
  await db.stop();
}

await main();
