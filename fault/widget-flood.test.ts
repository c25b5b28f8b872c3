import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MessageDto } from '../shared/schemas/chat.js';
import { connectMongo } from '../server/db/mongo.js';
import { ApiClient } from '../server/test/api-client.js';
import { startFakeLlm, type FakeLlm } from '../server/test/fake-llm/fake-llm.server.js';
import { ServerProcess, sleep } from '../server/test/server-process.js';
import { connectWidget, send, type WidgetClient } from '../server/test/widget-client.js';

const KEY_LINE = /Admin API key \(shown once, keep it safe\): (sk_live_\w+)/;
const SITE = 'https://shop.example';
/** The defaults for visitors and addresses; a per-bot ceiling low enough to meet with 200 messages. */
const PER_IP_PER_MINUTE = 30;
const PER_BOT_PER_MINUTE = 50;

type Reply = Awaited<ReturnType<typeof send>>;

/** How many a per-minute limit lets through over `ms` (a fixed window may restart mid-run). */
const allowed = (perMinute: number, ms: number) => perMinute * (Math.floor(ms / 60_000) + 1);

describe('a widget flood against a real server process', () => {
  let fake: FakeLlm;
  let server: ServerProcess;
  let connection: Connection;
  let dataDir: string;
  const sockets: WidgetClient[] = [];
  const dbName = `wisp_fault_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

  beforeAll(async () => {
    fake = await startFakeLlm();
    dataDir = mkdtempSync(path.join(tmpdir(), 'wisp-flood-'));
    const uri = new URL(inject('mongoUri'));
    uri.pathname = `/${dbName}`;
    connection = await connectMongo(uri.toString(), { dbName });
    server = new ServerProcess(
      {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        NODE_ENV: 'production',
        DATA_DIR: dataDir,
        MONGODB_URI: uri.toString(),
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-chat',
        WIDGET_MESSAGES_PER_BOT_PER_MINUTE: String(PER_BOT_PER_MINUTE),
      },
      dataDir,
    );
  });
  afterAll(async () => {
    for (const socket of sockets) socket.disconnect();
    await server?.kill();
    await connection?.dropDatabase().catch(() => undefined);
    await connection?.close();
    await fake?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('holds the per-address and per-bot limits: model calls, stored messages and usage equal what was accepted', async () => {
    const url = await server.ready();
    const admin = new ApiClient(url, KEY_LINE.exec(server.stdout)![1]!);
    const bot = await admin.post('/api/v1/chatbots', { name: 'Shop', slug: 'shop', allowedOrigins: [SITE] });
    expect(bot.status).toBe(201);

    const connect = async (ip: string, auth: { visitorId?: string; visitorToken?: string } = {}) => {
      const connected = await connectWidget(url, { bot: 'shop', ...auth }, { origin: SITE, ip });
      sockets.push(connected.socket);
      return connected;
    };
    const burst = (socket: WidgetClient) =>
      Promise.all(Array.from({ length: 5 }, (_, i) => send(socket, `flood message ${i} ${randomUUID()}`)));
    const replies: Reply[] = [];
    const floodStarted = Date.now();

    // One address, 30 visitors sending 5 messages at once; then 10 of them reconnect and send 5 more.
    const flood = await Promise.all(Array.from({ length: 30 }, () => connect('198.51.100.66')));
    replies.push(...(await Promise.all(flood.map(({ socket }) => burst(socket)))).flat());
    const returning = flood.slice(0, 10);
    for (const { socket } of returning) socket.disconnect();
    const reconnected = await Promise.all(
      returning.map(({ session }) =>
        connect('198.51.100.66', { visitorId: session.visitorId, visitorToken: session.visitorToken }),
      ),
    );
    expect(reconnected.map((r) => r.session.visitorId)).toEqual(returning.map((r) => r.session.visitorId));
    replies.push(...(await Promise.all(reconnected.map(({ socket }) => burst(socket)))).flat());
    const oneAddressMs = Date.now() - floodStarted;
    const fromOneAddress = replies.filter((r) => r.data).length;
    expect(replies).toHaveLength(200);
    expect(fromOneAddress).toBeGreaterThan(0);
    expect(fromOneAddress).toBeLessThanOrEqual(allowed(PER_IP_PER_MINUTE, oneAddressMs));

    // A real visitor on another network is still answered.
    const visitor = await connect('203.0.113.7');
    const answered = new Promise<MessageDto>((resolve) =>
      visitor.socket.once('chat:done', ({ message }) => resolve(message)),
    );
    const question = await send(visitor.socket, 'Where is my order?');
    expect(question.data).toBeDefined();
    expect((await answered).status).toBe('complete');
    replies.push(question);

    // 40 addresses, 5 messages each: the bot's ceiling holds whatever the addresses.
    const spread = await Promise.all(Array.from({ length: 40 }, (_, i) => connect(`198.51.102.${i + 1}`)));
    const spreadReplies = (await Promise.all(spread.map(({ socket }) => burst(socket)))).flat();
    replies.push(...spreadReplies);
    const floodMs = Date.now() - floodStarted;
    expect(spreadReplies.filter((r) => r.error?.message.includes('very busy')).length).toBeGreaterThan(0);

    const accepted = replies.filter((r) => r.data);
    expect(accepted.length).toBeLessThanOrEqual(allowed(PER_BOT_PER_MINUTE, floodMs));
    for (const refused of replies.filter((r) => r.error)) {
      expect(refused.error).toMatchObject({
        name: 'RateLimitError',
        details: { retryAfterSeconds: expect.any(Number) },
      });
    }

    // Every accepted message is answered; nothing refused reached the model or the database.
    const messages = connection.collection('messages');
    for (let waited = 0; await messages.countDocuments({ role: 'assistant', status: 'pending' }); waited += 100) {
      if (waited > 60_000) throw new Error('answers still pending after a minute');
      await sleep(100);
    }
    expect(await messages.countDocuments({ role: 'user' })).toBe(accepted.length);
    expect(await messages.countDocuments({ role: 'assistant', status: 'complete' })).toBe(accepted.length);
    expect(fake.calls.filter((call) => call.path === '/v1/chat/completions')).toHaveLength(accepted.length);
    const usage = await admin.get<{ messages: { used: number } }>('/api/v1/usage');
    expect(usage.body.data.messages.used).toBe(accepted.length);
  });
});
