import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedDb, type EmbeddedDb } from '../db/embedded-db.js';
import { connectMongo } from '../db/mongo.js';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { SseReader, type SseEvent } from '../test/sse.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

/** The app on a file-backed embedded database of its own, which the test kills mid-chat and starts again. */
describe('the database going away during a chat', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'wisp-db-failure-'));
  const file = path.join(dir, 'wisp.h2');
  let db: EmbeddedDb;
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;
  let botId: string;

  beforeAll(async () => {
    db = await startEmbeddedDb({ file });
    fake = await startFakeLlm();
    t = await startTestApp({
      mongoUri: db.uri,
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'fake-chat' },
    });
    org = await t.createOrg();
    botId = (await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Outage' })).body.data.id;
  }, 120_000);
  afterAll(async () => {
    await t.stop();
    await fake.stop();
    await db.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends the stream with a 503 error event, refuses new chats with 503, and loses no accepted message', async () => {
    const before = await org.api.post<{ conversationId: string }>('/api/v1/chat', {
      chatbotId: botId,
      message: 'before the outage',
      sessionId: 'outage',
    });
    expect(before.status).toBe(200);

    fake.setReply(Array.from({ length: 30 }, (_, i) => `w${i}`).join(' '));
    fake.setLatency(0, 100);
    const reader = new SseReader(
      await fetch(`${t.url}/api/v1/chat`, {
        method: 'POST',
        headers: org.api.headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({
          chatbotId: botId,
          message: 'during the outage',
          sessionId: 'outage',
          clientMessageId: 'outage-1',
          stream: true,
        }),
      }),
    );
    await reader.untilChunks(3);
    process.kill(db.pid!, 'SIGKILL');

    const events = await reader.rest();
    const error = events.find((e): e is Exclude<SseEvent, '[DONE]'> => typeof e === 'object' && 'error' in e);
    expect(error?.error).toMatchObject({
      name: 'UnavailableError',
      message: 'The database is unavailable; try again shortly',
    });

    const refused = await org.api.post('/api/v1/chat', { chatbotId: botId, message: 'still down?' });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({ name: 'UnavailableError', message: expect.stringMatching(/database/) });

    // The data file, opened again: everything accepted before the outage is there, once.
    db = await startEmbeddedDb({ file });
    const reopened = await connectMongo(db.uri, { dbName: t.connection.name });
    try {
      const messages = await reopened
        .collection('messages')
        .find({ conversationId: new Types.ObjectId(before.body.data.conversationId) })
        .sort({ _id: 1 })
        .toArray();
      expect(messages.map((m) => [m.role, m.content])).toEqual([
        ['user', 'before the outage'],
        ['assistant', expect.stringMatching(/^Echo: before the outage/)],
        ['user', 'during the outage'],
        ['assistant', expect.any(String)],
      ]);
      expect(messages[2]!.clientMessageId).toBe('outage-1');
      expect(messages[3]!.status).not.toBe('complete');
    } finally {
      await reopened.close();
    }
  }, 120_000);
});
