/**
 * The live server the SDKs' tests run against: the test model server, a real Wisp server on the embedded
 * database (loopback, a free port), an organization with an admin key and a bot whose text source is ready.
 * Usage: tsx sdk/harness/start.ts OUT.json — writes `{ baseUrl, apiKey, chatbotId, ... }` to OUT.json once
 * everything is ready, then stays up until SIGTERM or SIGINT.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakeLlm } from '../../server/test/fake-llm/fake-llm.server.js';
import { UNLIMITED_ENV } from '../../server/test/unlimited-limits.js';
import { startLocalWisp } from './wisp.js';

/**
 * What the tests read. `limitedApiKey` may make one request per second, so a second one gets a 429.
 * `POST {controlUrl}/model/fail-next?times=N` makes the next N model calls fail, so chat answers 503;
 * `POST {controlUrl}/model/die-mid-stream?after=N` cuts the next streamed answer after N chunks.
 */
export interface HarnessInfo {
  baseUrl: string;
  apiKey: string;
  chatbotId: string;
  chatbotSlug: string;
  sourceId: string;
  limitedApiKey: string;
  controlUrl: string;
}

const out = process.argv[2];
if (!out) {
  console.error('usage: tsx sdk/harness/start.ts OUT.json');
  process.exit(2);
}

const fake = await startFakeLlm();
const wisp = await startLocalWisp(
  {
    ...UNLIMITED_ENV,
    OPENAI_BASE_URL: fake.url,
    OPENAI_API_KEY: 'test',
    OPENAI_MODEL: 'fake-chat',
    KNOWLEDGE_JOB_POLL_MS: '50',
    // The webhooks, channels and actions the tests save point at loopback.
    URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1',
    // One model call per chat request, so a failed call is a 503 the SDKs see (and retry).
    MODEL_MAX_RETRIES: '0',
  },
  {
    // The free plan is unlimited; the pro plan allows one request a second, for the retry tests.
    plans: {
      free: { perMinute: 0, burstPerSecond: 0 },
      pro: { perMinute: 0, burstPerSecond: 1 },
      enterprise: { perMinute: 0, burstPerSecond: 0 },
    },
    publicPerMinute: 0,
  },
);

// Lets the tests make the model fail, as a provider outage would.
const control = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://control');
  if (req.method === 'POST' && url.pathname === '/model/fail-next') {
    fake.failNext(Number(url.searchParams.get('times') ?? 1), Number(url.searchParams.get('status') ?? 500));
    res.writeHead(204).end();
  } else if (req.method === 'POST' && url.pathname === '/model/die-mid-stream') {
    fake.dieMidStream(Number(url.searchParams.get('after') ?? 1));
    res.writeHead(204).end();
  } else res.writeHead(404).end();
});
await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));

const stop = async () => {
  control.close();
  await wisp.stop();
  await fake.stop();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

const { organizations } = wisp.app.services;
const org = await organizations.create('SDK tests');
const limited = await organizations.create('SDK tests, rate limited', 'pro');

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${wisp.app.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${org.adminKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const envelope = (await res.json()) as { data: T; error: unknown };
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(envelope.error)}`);
  return envelope.data;
}

const bot = await api<{ id: string; slug: string }>('POST', '/chatbots', {
  name: 'SDK bot',
  instructions: 'Be brief.',
});
const source = await api<{ id: string }>('POST', `/chatbots/${bot.id}/sources`, {
  type: 'text',
  title: 'Shipping',
  content: 'We ship to every address in the EU within 3 working days. Returns are free for 30 days.',
});
for (;;) {
  const { status } = await api<{ status: string }>('GET', `/sources/${source.id}`);
  if (status === 'ready') break;
  if (status === 'failed') throw new Error('the harness source failed to process');
  await new Promise((resolve) => setTimeout(resolve, 50));
}

const info: HarnessInfo = {
  baseUrl: wisp.app.url,
  apiKey: org.adminKey,
  chatbotId: bot.id,
  chatbotSlug: bot.slug,
  sourceId: source.id,
  limitedApiKey: limited.adminKey,
  controlUrl: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
};
// Written whole and then renamed, so a reader never sees half a file.
writeFileSync(`${out}.tmp`, JSON.stringify(info, null, 2));
renameSync(`${out}.tmp`, out);
console.log(`sdk harness: Wisp at ${info.baseUrl}`);
