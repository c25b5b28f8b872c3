import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceDto } from '../../shared/schemas/sources.js';
import type { DomainEvents } from '../events/domain-events.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { addSource, createBot, FAST_QUEUE_ENV, waitForSource } from './test/knowledge-client.js';

const REFUNDS = `# Refund policy

Customers can ask for a full refund within 30 days of purchase. Refunds go back to the original card within five business days.

## Exceptions

Gift cards and customised engravings cannot be refunded once shipped.`;

describe('knowledge sources API', () => {
  let t: TestApp;
  let org: TestOrg;
  let other: TestOrg;
  let botId: string;

  beforeAll(async () => {
    t = await startTestApp({ env: FAST_QUEUE_ENV });
    org = await t.createOrg('Acme');
    other = await t.createOrg('Other');
    botId = await createBot(org.api);
  });
  afterAll(() => t.stop());

  const retrieve = (query: string, chatbotId = botId, organizationId = org.id) =>
    t.app.services.knowledge.retriever.retrieve({ chatbotId, organizationId }, query);

  it('accepts a text source with 202 in queued state, then reports it ready with its counts', async () => {
    const queued = await addSource(org.api, botId, { type: 'text', title: 'Refunds', content: REFUNDS });
    expect(queued).toMatchObject({ type: 'text', title: 'Refunds', chatbotId: botId, failureReason: null });
    const ready = await waitForSource(org.api, queued.id);
    expect(ready.status).toBe('ready');
    expect(ready.counts.chunks).toBeGreaterThanOrEqual(2);
    expect(ready.counts.characters).toBeGreaterThan(150);
    expect(ready.readyAt).not.toBeNull();

    const found = await retrieve('Can I get a refund on a gift card?');
    expect(found.passages[0]).toMatchObject({ sourceId: queued.id, title: 'Refunds › Refund policy › Exceptions' });
    expect(found.passages[0]?.excerpt).toContain('Gift cards');
    expect(found.confidence).toBeGreaterThan(0.5);
  });

  it('announces source.ready with the chunk count once the source answers', async () => {
    const ready: Array<DomainEvents['source.ready']> = [];
    const unsubscribe = t.app.services.events.subscribe('source.ready', (event) => void ready.push(event));
    try {
      const queued = await addSource(org.api, botId, { type: 'text', title: 'Refunds again', content: REFUNDS });
      const done = await waitForSource(org.api, queued.id);
      await t.app.services.events.settled();
      expect(ready).toEqual([
        {
          organizationId: org.id,
          chatbotId: botId,
          sourceId: queued.id,
          type: 'text',
          title: 'Refunds again',
          chunkCount: done.counts.chunks,
          occurredAt: expect.any(String),
        },
      ]);
    } finally {
      unsubscribe();
    }
  });

  it('lists the bot sources newest first with pagination and filters', async () => {
    const second = await addSource(org.api, botId, { type: 'text', title: 'Shipping', content: 'We ship worldwide.' });
    await waitForSource(org.api, second.id);
    const page = await org.api.get<SourceDto[]>(`/api/v1/chatbots/${botId}/sources?perPage=1`);
    expect(page.status).toBe(200);
    expect(page.body.meta).toMatchObject({ page: 1, perPage: 1 });
    expect(page.body.meta?.total).toBeGreaterThanOrEqual(2);
    expect(page.body.data[0]?.id).toBe(second.id);
    const texts = await org.api.get<SourceDto[]>(`/api/v1/chatbots/${botId}/sources?type=url`);
    expect(texts.body.data).toEqual([]);
  });

  it('queues a burst of writes instead of refusing them, and processes every one', async () => {
    const bot = await createBot(org.api, 'Burst bot');
    const created = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        addSource(org.api, bot, {
          type: 'text',
          title: `Note ${i}`,
          content: `Fact number ${i}: the code word is zebra${i}.`,
        }),
      ),
    );
    const done = await Promise.all(created.map((source) => waitForSource(org.api, source.id)));
    expect(done.every((source) => source.status === 'ready')).toBe(true);
    const found = await retrieve('zebra17', bot);
    expect(found.passages[0]?.sourceId).toBe(created[17]?.id);
  });

  it('answers 404 when another organization reads, lists, changes, reindexes or deletes a source', async () => {
    const source = await addSource(org.api, botId, { type: 'text', title: 'Private', content: 'Internal only.' });
    for (const res of [
      await other.api.get(`/api/v1/sources/${source.id}`),
      await other.api.patch(`/api/v1/sources/${source.id}`, { title: 'Stolen' }),
      await other.api.post(`/api/v1/sources/${source.id}/reindex`),
      await other.api.delete(`/api/v1/sources/${source.id}`),
      await other.api.get(`/api/v1/chatbots/${botId}/sources`),
      await other.api.post(`/api/v1/chatbots/${botId}/sources`, { type: 'text', title: 'x', content: 'y' }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error?.name).toBe('NotFoundError');
    }
    const otherFind = await retrieve('Internal only', botId, other.id);
    expect(otherFind.passages).toEqual([]);
  });

  it('needs knowledge:write to add and knowledge:read to list, naming the missing scope', async () => {
    const reader = await t.clientWithScopes(org, ['knowledge:read']);
    const write = await reader.post(`/api/v1/chatbots/${botId}/sources`, { type: 'text', title: 'a', content: 'b' });
    expect(write.status).toBe(403);
    expect(write.body.error?.details).toMatchObject({ requiredScope: 'knowledge:write' });
    expect((await reader.get(`/api/v1/chatbots/${botId}/sources`)).status).toBe(200);
    const chatOnly = await t.clientWithScopes(org, ['chat']);
    expect((await chatOnly.get(`/api/v1/chatbots/${botId}/sources`)).status).toBe(403);
  });

  it('refuses invalid bodies with 422 naming the fields', async () => {
    const res = await org.api.post(`/api/v1/chatbots/${botId}/sources`, { type: 'text', title: '', content: '' });
    expect(res.status).toBe(422);
    const paths = (res.body.error?.details as { fields: Array<{ path: string }> }).fields.map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['title', 'content']));
    const noFile = await org.api.post(`/api/v1/chatbots/${botId}/sources`, { type: 'file' });
    expect(noFile.status).toBe(422);
    expect(noFile.body.error?.message).toContain('multipart/form-data');
  });

  it('renames in place, and reprocesses new content so the old text stops answering', async () => {
    const source = await addSource(org.api, botId, {
      type: 'text',
      title: 'Hours',
      content: 'We open at 9am on weekdays.',
    });
    await waitForSource(org.api, source.id);
    const renamed = await org.api.patch<SourceDto>(`/api/v1/sources/${source.id}`, { title: 'Opening hours' });
    expect(renamed.status).toBe(200);
    expect((await retrieve('when do you open weekdays')).passages[0]?.title).toBe('Opening hours');

    const edited = await org.api.patch<SourceDto>(`/api/v1/sources/${source.id}`, {
      content: 'We open at 7am on weekdays and 10am on Saturdays.',
    });
    expect(edited.status).toBe(202);
    expect(edited.body.data.status).toBe('queued');
    await waitForSource(org.api, source.id);
    const found = await retrieve('open Saturdays');
    expect(found.passages[0]?.text).toContain('10am on Saturdays');
    expect(found.passages.some((p) => p.text.includes('9am'))).toBe(false);
    const chunks = await t.app.models.Chunk.countDocuments({ sourceId: source.id });
    expect(chunks).toBe(1);
  });

  it('reindexes on request, keeping exactly one set of chunks', async () => {
    const source = await addSource(org.api, botId, { type: 'text', title: 'Warranty', content: REFUNDS });
    const first = await waitForSource(org.api, source.id);
    const res = await org.api.post<SourceDto>(`/api/v1/sources/${source.id}/reindex`);
    expect(res.status).toBe(202);
    expect(res.body.data.status).toBe('queued');
    const again = await waitForSource(org.api, source.id);
    expect(again.counts.chunks).toBe(first.counts.chunks);
    expect(await t.app.models.Chunk.countDocuments({ sourceId: source.id })).toBe(first.counts.chunks);
  });

  it('takes a deleted source out of answers at once', async () => {
    const source = await addSource(org.api, botId, {
      type: 'text',
      title: 'Secret',
      content: 'The vault code is platypus.',
    });
    await waitForSource(org.api, source.id);
    expect((await retrieve('vault code platypus')).passages[0]?.sourceId).toBe(source.id);
    const res = await org.api.delete(`/api/v1/sources/${source.id}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ id: source.id, deleted: true });
    const after = await retrieve('vault code platypus');
    expect(after.passages.some((p) => p.sourceId === source.id)).toBe(false);
    expect(await t.app.models.Chunk.countDocuments({ sourceId: source.id })).toBe(0);
    expect((await org.api.get(`/api/v1/sources/${source.id}`)).status).toBe(404);
  });

  it('counts the organization knowledge in the usage report', async () => {
    const usage = await org.api.get<{ sources: number; storage: { chunks: number; characters: number } }>(
      '/api/v1/usage',
    );
    expect(usage.status).toBe(200);
    expect(usage.body.data.sources).toBeGreaterThanOrEqual(30);
    expect(usage.body.data.storage.chunks).toBeGreaterThanOrEqual(30);
  });

  it('removes the sources and chunks of a deleted bot', async () => {
    const bot = await createBot(org.api, 'Short-lived');
    const source = await addSource(org.api, bot, { type: 'text', title: 'T', content: 'Temporary knowledge.' });
    await waitForSource(org.api, source.id);
    expect((await org.api.delete(`/api/v1/chatbots/${bot}`)).status).toBe(200);
    expect(await t.app.models.Source.countDocuments({ chatbotId: bot })).toBe(0);
    expect(await t.app.models.Chunk.countDocuments({ chatbotId: bot })).toBe(0);
    expect((await retrieve('Temporary knowledge', bot)).passages).toEqual([]);
  });
});
