import { Types } from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { addSource, createBot, FAST_QUEUE_ENV, waitForSource } from './test/knowledge-client.js';

/** Enough paragraphs for several embedding batches, so the provider can fail between two of them. */
const LONG_TEXT = Array.from(
  { length: 160 },
  (_, i) =>
    `Topic ${i}. ` +
    Array.from({ length: 60 }, (_, j) => `detail${i}x${j}`).join(' ') +
    ` This paragraph explains the refund rule number ${i} in detail.`,
).join('\n\n');

describe('the embedding provider failing while a source is ingested', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;
  let botId: string;

  const embeddingCalls = () => fake.calls.filter((c) => c.path === '/v1/embeddings').length;
  const chunksOf = async (sourceId: string) => {
    const source = await t.app.models.Source.findById(sourceId).lean();
    return t.app.models.Chunk.find({ sourceId: new Types.ObjectId(sourceId), run: source?.activeRun }).lean();
  };

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      env: {
        ...FAST_QUEUE_ENV,
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-chat',
        OPENAI_EMBEDDING_MODEL: 'fake-embed',
        MODEL_MAX_RETRIES: '0',
      },
    });
    org = await t.createOrg();
    botId = await createBot(org.api, 'Embedding failures');
  });
  beforeEach(() => fake.reset());
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  it('retries the source after a failure between two embedding batches and ends ready with every chunk embedded once', async () => {
    fake.failLater(1, 1, 500);
    const source = await addSource(org.api, botId, { type: 'text', title: 'Refunds, long', content: LONG_TEXT });
    const done = await waitForSource(org.api, source.id, ['ready', 'failed'], 60_000);
    expect(done).toMatchObject({ status: 'ready', failureReason: null, attempts: 2 });
    // First attempt: one batch answered, one failed; the second attempt embeds every batch again.
    expect(embeddingCalls()).toBeGreaterThanOrEqual(4);
    const chunks = await chunksOf(source.id);
    expect(chunks.length).toBe(done.counts.chunks);
    expect(new Set(chunks.map((c) => c.position)).size).toBe(chunks.length);
    expect(chunks.every((c) => c.vector !== null && c.vectorModel === 'fake-embed')).toBe(true);
  });

  it('when the provider keeps failing, the source ends failed with the reason, stays listed, and reindexing makes it ready', async () => {
    fake.failAlways(503);
    const source = await addSource(org.api, botId, { type: 'text', title: 'Refunds, unlucky', content: LONG_TEXT });
    const failed = await waitForSource(org.api, source.id, ['ready', 'failed'], 60_000);
    expect(failed.status).toBe('failed');
    expect(failed.failureReason).toMatch(/embedding model failed/);
    const listed = await org.api.get<Array<{ id: string }>>(`/api/v1/chatbots/${botId}/sources?perPage=100`);
    expect(listed.body.data.map((s) => s.id)).toContain(source.id);

    fake.reset();
    expect((await org.api.post(`/api/v1/sources/${source.id}/reindex`)).status).toBe(202);
    const ready = await waitForSource(org.api, source.id, ['ready', 'failed'], 60_000);
    expect(ready.status).toBe('ready');
    const chunks = await chunksOf(source.id);
    expect(chunks.length).toBe(ready.counts.chunks);
    expect(chunks.every((c) => c.vector !== null)).toBe(true);
  });
});
