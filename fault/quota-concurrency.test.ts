import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mongoose, { type Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEmbeddedUri } from '../server/db/embedded-uri-file.js';
import { ApiClient, type ApiResponse } from '../server/test/api-client.js';
import { startFakeLlm, type FakeLlm } from '../server/test/fake-llm/fake-llm.server.js';
import { ServerProcess } from '../server/test/server-process.js';
import { UNLIMITED_RATE_ENV } from '../server/test/unlimited-limits.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const KEY_LINE = /shown once, keep it safe\): (sk_live_[0-9A-Za-z]{32,})$/m;
const QUOTA = 20;

interface Usage {
  messages: { used: number; limit: number | null };
}

/**
 * Many chats at once through real HTTP against a real server process with a small monthly
 * quota: exactly the quota is answered, the rest is refused with Retry-After, and turns the
 * model fails before answering anything give their message back.
 */
describe('the monthly quota under concurrent chats', () => {
  let dir: string;
  let server: ServerProcess;
  let fake: FakeLlm;
  let url: string;
  let db: Connection;
  const env = (): Record<string, string> => ({
    PATH: process.env.PATH ?? '',
    DATA_DIR: path.join(dir, 'data'),
    SECRET_KEY: 'fault-secret-key-fault-secret-key-0123456789',
  });

  /** `npm run org -- …` against the running server's database. */
  async function org(...args: string[]): Promise<string> {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/org.ts', ...args], {
      cwd: ROOT,
      env: env(),
      timeout: 60_000,
    });
    return stdout;
  }

  async function newBot(api: ApiClient, name: string): Promise<string> {
    const res = await api.post<{ id: string }>('/api/v1/chatbots', { name });
    expect(res.status).toBe(201);
    return res.body.data.id;
  }

  const countMessages = (filter: Record<string, unknown>) => db.collection('messages').countDocuments(filter);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'wisp-quota-'));
    fake = await startFakeLlm();
    server = new ServerProcess(
      {
        ...env(),
        ...UNLIMITED_RATE_ENV,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        NODE_ENV: 'test',
        MONTHLY_MESSAGE_QUOTA: String(QUOTA),
        OPENAI_BASE_URL: fake.url,
        OPENAI_MODEL: 'fake-chat',
        MODEL_MAX_RETRIES: '0',
      },
      dir,
    );
    url = await server.ready(60_000);
    // The same database the server uses: the address it published for command-line tools.
    db = await mongoose.createConnection(readEmbeddedUri(path.join(dir, 'data'))!).asPromise();
  });

  afterAll(async () => {
    await db?.close();
    await server?.kill();
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers exactly the quota of 200 concurrent chats and refuses the rest with 429 and Retry-After', async () => {
    const api = new ApiClient(url, KEY_LINE.exec(server.stdout)![1]!);
    const bot = await newBot(api, 'Busy bot');
    const before = fake.calls.length;

    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => api.post('/api/v1/chat', { chatbotId: bot, message: `question ${i}` })),
    );

    const answered = results.filter((res) => res.status === 200);
    const refused = results.filter((res) => res.status === 429);
    expect(answered).toHaveLength(QUOTA);
    expect(refused).toHaveLength(200 - QUOTA);
    for (const res of refused) {
      expect(res.body.error?.name).toBe('QuotaExceededError');
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(res.body.error?.details).toMatchObject({ limit: QUOTA, retryAfter });
    }
    expect((await api.get<Usage>('/api/v1/usage')).body.data.messages).toEqual(
      expect.objectContaining({ used: QUOTA, limit: QUOTA }),
    );
    const botId = (await db.collection('chatbots').findOne({ name: 'Busy bot' }))!._id;
    expect(await countMessages({ chatbotId: botId, role: 'user' })).toBe(QUOTA);
    expect(await countMessages({ chatbotId: botId, role: 'assistant', status: 'complete' })).toBe(QUOTA);
    expect(fake.calls.slice(before).filter((call) => call.path === '/v1/chat/completions')).toHaveLength(QUOTA);
  });

  it('gives back the message of every turn the model failed before answering, also under concurrency', async () => {
    const orgId = /Created organization ([0-9a-f]{24})/.exec(await org('create', 'Flaky model'))![1]!;
    const created = await org('set-plan', orgId, 'pro', '--monthly-messages', String(QUOTA));
    expect(created).toContain(`${QUOTA} messages/month*`);
    const keys = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/keys.ts', 'create', '--org', orgId, '--scopes', 'admin'],
      { cwd: ROOT, env: env(), timeout: 60_000 },
    );
    const api = new ApiClient(url, KEY_LINE.exec(keys.stdout)![1]!);
    const bot = await newBot(api, 'Flaky bot');

    // Every third message makes the model answer 500 before any token (no retries are configured).
    const send = (i: number): Promise<ApiResponse> =>
      api.post('/api/v1/chat', { chatbotId: bot, message: i % 3 === 0 ? `question ${i} #fail500` : `question ${i}` });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => send(i)));
    const statuses = results.map((res) => res.status);
    expect(statuses.every((status) => [200, 429, 503].includes(status))).toBe(true);
    const answered = statuses.filter((status) => status === 200).length;
    const failed = statuses.filter((status) => status === 503).length;
    expect(failed).toBeGreaterThan(0);
    expect(answered).toBeLessThanOrEqual(QUOTA);
    expect((await api.get<Usage>('/api/v1/usage')).body.data.messages.used).toBe(answered);

    const botId = (await db.collection('chatbots').findOne({ name: 'Flaky bot' }))!._id;
    // Nothing accepted is lost: the failed turns keep the visitor's message and a failed answer.
    expect(await countMessages({ chatbotId: botId, role: 'user' })).toBe(answered + failed);
    expect(await countMessages({ chatbotId: botId, role: 'assistant', status: 'complete' })).toBe(answered);
    expect(await countMessages({ chatbotId: botId, role: 'assistant', status: 'failed' })).toBe(failed);

    // The released messages can be used: answering continues until exactly the quota is answered.
    let total = answered;
    for (let i = 1; total < QUOTA + 1; i += 1) {
      const res = await send(3 * i + 1);
      if (res.status === 429) break;
      expect(res.status).toBe(200);
      total += 1;
    }
    expect(total).toBe(QUOTA);
    expect((await api.get<Usage>('/api/v1/usage')).body.data.messages.used).toBe(QUOTA);
  });
});
