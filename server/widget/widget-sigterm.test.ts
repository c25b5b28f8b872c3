import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MessageDto } from '../../shared/schemas/chat.js';
import { connectMongo } from '../db/mongo.js';
import { ApiClient } from '../test/api-client.js';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { ServerProcess } from '../test/server-process.js';
import { UNLIMITED_WIDGET_ENV } from '../test/unlimited-limits.js';
import { connectWidget, send, type WidgetClient } from '../test/widget-client.js';

const KEY_LINE = /Admin API key \(shown once, keep it safe\): (sk_live_\w+)/;

describe('SIGTERM to a server process while a widget answer streams', () => {
  let fake: FakeLlm;
  let server: ServerProcess | null = null;
  let socket: WidgetClient | null = null;
  let connection: Connection;
  let dataDir: string;
  const dbName = `wisp_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;

  beforeAll(async () => {
    // Slow enough that the answer is still streaming when the signal arrives.
    fake = await startFakeLlm({ tokenDelayMs: 150 });
    dataDir = mkdtempSync(path.join(tmpdir(), 'wisp-sigterm-'));
    const uri = new URL(inject('mongoUri'));
    uri.pathname = `/${dbName}`;
    connection = await connectMongo(uri.toString(), { dbName });
    server = new ServerProcess(
      {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        NODE_ENV: 'test',
        DATA_DIR: dataDir,
        MONGODB_URI: uri.toString(),
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-chat',
        SHUTDOWN_GRACE_MS: '30000',
        ...UNLIMITED_WIDGET_ENV,
      },
      dataDir,
    );
  });
  afterAll(async () => {
    socket?.disconnect();
    await server?.kill();
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
    await fake.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // A whole server process, a database and a minute of streaming on a busy machine: a longer timeout.
  it(
    'finishes the answer to the socket and stores it complete, and refuses a new message meanwhile',
    { timeout: 90_000 },
    async () => {
      const url = await server!.ready(60_000);
      const key = KEY_LINE.exec(server!.stdout)?.[1];
      expect(key, 'the first-start admin key').toBeDefined();
      const created = await new ApiClient(url, key!).post('/api/v1/chatbots', { name: 'Drain bot', slug: 'drain-bot' });
      expect(created.status).toBe(201);

      const connected = await connectWidget(url, { bot: 'drain-bot' });
      socket = connected.socket;
      const chunks: string[] = [];
      const firstChunk = new Promise<void>((resolve) => socket!.once('chat:chunk', () => resolve()));
      socket.on('chat:chunk', (chunk) => chunks.push(chunk.text));
      const done = new Promise<MessageDto>((resolve) => socket!.once('chat:done', ({ message }) => resolve(message)));
      const failed = new Promise<string>((resolve) => socket!.once('chat:error', ({ error }) => resolve(error.name)));
      const accepted = await send(socket, 'Please give me a long answer #long');
      expect(accepted.data?.assistantMessageId).toBeTruthy();
      await firstChunk;

      server!.child.kill('SIGTERM');
      await server!.waitForOutput(/"msg":"shutting down"/);
      const during = await send(socket, 'Sent while the server stops');
      expect(during.error).toMatchObject({
        name: 'UnavailableError',
        message: expect.stringMatching(/restarting/),
        details: { retryAfterSeconds: expect.any(Number) },
      });

      const message = await Promise.race([
        done,
        failed.then((name) => Promise.reject(new Error(`chat:error ${name}`))),
      ]);
      expect(message.status).toBe('complete');
      expect(message.content.split(/\s+/).length).toBeGreaterThanOrEqual(50);
      expect(chunks.join('')).toBe(message.content);
      expect(await server!.exit(40_000)).toEqual({ code: 0, signal: null });

      const stored = await connection
        .collection('messages')
        .findOne({ _id: new Types.ObjectId(accepted.data!.assistantMessageId!) });
      expect(stored).toMatchObject({ status: 'complete', content: message.content });
      const userMessages = await connection.collection('messages').countDocuments({ role: 'user' });
      expect(userMessages, 'the message refused while stopping is not stored').toBe(1);
    },
  );
});
