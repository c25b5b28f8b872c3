import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RetrievalPreviewDto } from '../../shared/schemas/sources.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { addSource, createBot, FAST_QUEUE_ENV, waitForSource } from './test/knowledge-client.js';

const RETURNS = 'Returns are accepted within 30 days of delivery. Refunds reach the original card within five days.';

const KNOWLEDGE = new Set(['knowledge_versions', 'sources', 'chunks']);

/**
 * The calls `times` questions of a warm bot make to the knowledge's collections (its version, or its sources
 * and chunks for a rebuild), seen through mongoose's debug hook.
 */
async function knowledgeReads(t: TestApp, ask: () => Promise<unknown>, times: number): Promise<number> {
  let reads = 0;
  t.connection.set('debug', (collection: string) => {
    if (KNOWLEDGE.has(collection)) reads += 1;
  });
  try {
    for (let i = 0; i < times; i += 1) await ask();
  } finally {
    t.connection.set('debug', false);
  }
  return reads;
}

describe('the knowledge version on a sole server (the embedded engine it started)', () => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestApp({ env: FAST_QUEUE_ENV, soleServer: true });
    org = await t.createOrg('Sole server');
  });
  afterAll(() => t?.stop());

  it('is kept between questions, and a source made ready, renamed or deleted is seen by the very next question without a rebuild', async () => {
    const botId = await createBot(org.api);
    const preview = async () => {
      const res = await org.api.post<RetrievalPreviewDto>(`/api/v1/chatbots/${botId}/retrieval-preview`, {
        query: 'How long do refunds take?',
      });
      expect(res.status).toBe(200);
      return res.body.data.passages.map((passage) => ({ sourceId: passage.sourceId, title: passage.title }));
    };
    expect(await preview()).toEqual([]);
    expect(await knowledgeReads(t, preview, 3)).toBe(0);

    const source = await addSource(org.api, botId, { type: 'text', title: 'Returns', content: RETURNS });
    expect((await waitForSource(org.api, source.id)).status).toBe('ready');
    expect(await preview()).toEqual([{ sourceId: source.id, title: 'Returns' }]);
    expect(await knowledgeReads(t, preview, 3)).toBe(0);

    expect((await org.api.patch(`/api/v1/sources/${source.id}`, { title: 'Refunds' })).status).toBe(200);
    expect(await preview()).toEqual([{ sourceId: source.id, title: 'Refunds' }]);
    expect(await knowledgeReads(t, preview, 3)).toBe(0);

    expect((await org.api.delete(`/api/v1/sources/${source.id}`)).status).toBe(200);
    expect(await preview()).toEqual([]);
    expect(await knowledgeReads(t, preview, 3)).toBe(0);
  });
});

describe('the knowledge version on a server that may share its database with other nodes', () => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestApp({ env: FAST_QUEUE_ENV });
    org = await t.createOrg('One of several nodes');
  });
  afterAll(() => t?.stop());

  it('is read on every question, so another node’s change is seen by the next one', async () => {
    const botId = await createBot(org.api);
    const preview = () =>
      org.api.post(`/api/v1/chatbots/${botId}/retrieval-preview`, { query: 'How long do refunds take?' });
    await preview();
    expect(await knowledgeReads(t, preview, 3)).toBe(3);
  });
});
