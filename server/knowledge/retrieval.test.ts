import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { addSource, createBot, FAST_QUEUE_ENV, waitForSource } from './test/knowledge-client.js';
import { SUPPORT_CORPUS } from './test/support-corpus.js';

/** The floor recall@5 must stay above on the support corpus, lexical or hybrid. */
const RECALL_FLOOR = 0.8;

interface LoadedBot {
  t: TestApp;
  org: TestOrg;
  botId: string;
  /** Source id of each corpus document, by index. */
  sourceIds: string[];
}

async function loadCorpus(env: Record<string, string>): Promise<LoadedBot> {
  const t = await startTestApp({ env: { ...FAST_QUEUE_ENV, KNOWLEDGE_JOB_CONCURRENCY: '4', ...env } });
  const org = await t.createOrg();
  const botId = await createBot(org.api, 'Help centre');
  const created = await Promise.all(
    SUPPORT_CORPUS.map((doc) => addSource(org.api, botId, { type: 'text', title: doc.title, content: doc.content })),
  );
  for (const source of created) expect((await waitForSource(org.api, source.id)).status).toBe('ready');
  return { t, org, botId, sourceIds: created.map((source) => source.id) };
}

async function recallAt5(bot: LoadedBot): Promise<{ recall: number; misses: string[] }> {
  let hits = 0;
  let total = 0;
  const misses: string[] = [];
  for (const [index, doc] of SUPPORT_CORPUS.entries()) {
    for (const question of doc.questions) {
      total += 1;
      const found = await bot.t.app.services.knowledge.retriever.retrieve(
        { chatbotId: bot.botId, organizationId: bot.org.id },
        question,
        { limit: 5 },
      );
      if (found.passages.some((p) => p.sourceId === bot.sourceIds[index])) hits += 1;
      else misses.push(question);
    }
  }
  return { recall: hits / total, misses };
}

describe('retrieval quality on a small help centre', () => {
  let fake: FakeLlm;
  let lexical: LoadedBot;
  let hybrid: LoadedBot;

  beforeAll(async () => {
    fake = await startFakeLlm();
    [lexical, hybrid] = await Promise.all([
      loadCorpus({}),
      loadCorpus({
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-chat',
        OPENAI_EMBEDDING_MODEL: 'fake-embed',
      }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([lexical?.t.stop(), hybrid?.t.stop()]);
    await fake.stop();
  });

  it('finds the answering document in the top 5 for most questions, lexical only', async () => {
    const { recall, misses } = await recallAt5(lexical);
    console.log(`recall@5 lexical: ${recall.toFixed(3)} (missed: ${misses.join(' | ') || 'none'})`);
    expect(recall).toBeGreaterThanOrEqual(RECALL_FLOOR);
  });

  it('finds the answering document in the top 5 for most questions, hybrid with embeddings', async () => {
    const chunks = await hybrid.t.app.models.Chunk.find({ chatbotId: hybrid.botId }, { vector: 1, vectorModel: 1 });
    // 64 float32 dimensions from the fake embedding model, 4 bytes each.
    expect(chunks.every((chunk) => chunk.vector?.length === 64 * 4 && chunk.vectorModel === 'fake-embed')).toBe(true);
    const { recall, misses } = await recallAt5(hybrid);
    console.log(`recall@5 hybrid: ${recall.toFixed(3)} (missed: ${misses.join(' | ') || 'none'})`);
    expect(recall).toBeGreaterThanOrEqual(RECALL_FLOOR);
  });

  it('is confident about covered questions and not about questions the knowledge does not cover', async () => {
    for (const bot of [lexical, hybrid]) {
      const retrieve = (q: string) =>
        bot.t.app.services.knowledge.retriever.retrieve({ chatbotId: bot.botId, organizationId: bot.org.id }, q);
      const covered = await retrieve('How long is the password reset link valid?');
      const unknown = await retrieve('What is the capital of Mongolia?');
      expect(unknown.confidence).toBeLessThan(0.35);
      // The test model's hashed vectors are not on a sentence model's cosine scale, so with them
      // the figure is only compared; lexically it must clear the product's threshold.
      expect(covered.confidence).toBeGreaterThan(unknown.confidence + 0.3);
      if (bot === lexical) expect(covered.confidence).toBeGreaterThan(0.5);
    }
  });

  it('cites in a chat answer the source that holds the answer and not the others', async () => {
    const { org, botId, sourceIds } = hybrid;
    const res = await org.api.post<{ response: string; sources: Array<{ sourceId: string; title: string }> }>(
      `/api/v1/chatbots/${botId}/chat`,
      { message: 'Is water damage covered by the warranty?' },
    );
    expect(res.status).toBe(200);
    const warranty = sourceIds[SUPPORT_CORPUS.findIndex((doc) => doc.title === 'Warranty')];
    expect(res.body.data.sources[0]).toMatchObject({ sourceId: warranty, title: 'Warranty' });
    expect(new Set(res.body.data.sources.map((s) => s.sourceId))).toEqual(new Set([warranty]));
    // The fake model answers from passage [1] (title, then text), quoting its first words.
    expect(res.body.data.response).toContain('Based on [1]: Warranty All electronics come with a two-year');
    const prompt = JSON.stringify(fake.calls.filter((c) => c.path === '/v1/chat/completions').at(-1)?.body);
    expect(prompt).toContain('two-year manufacturer warranty');
    expect(prompt).not.toContain('Harbour Street');
  });
  it('finds through vector similarity alone what the lexical index cannot see, so broken or ignored vectors fail', async () => {
    // One-character tokens are dropped by the lexical index but kept by the embedding model, so only
    // the vectors can match this question to this source.
    const question = 'K 4 Q 7 Z';
    const found = [];
    for (const bot of [lexical, hybrid]) {
      const source = await addSource(bot.org.api, bot.botId, {
        type: 'text',
        title: 'Part codes',
        content: 'The spare part kit is labelled K 4 Q 7 Z on the box.',
      });
      expect((await waitForSource(bot.org.api, source.id)).status).toBe('ready');
      const retrieval = await bot.t.app.services.knowledge.retriever.retrieve(
        { chatbotId: bot.botId, organizationId: bot.org.id },
        question,
      );
      found.push({ retrieval, sourceId: source.id });
    }
    const [byLexical, byHybrid] = found;
    expect(byLexical?.retrieval).toEqual({ passages: [], confidence: 0 });
    expect(byHybrid?.retrieval.passages[0]?.sourceId).toBe(byHybrid?.sourceId);
    expect(byHybrid?.retrieval.confidence).toBeGreaterThan(0);
  });
});
