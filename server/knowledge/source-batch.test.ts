import mongoose, { Types } from 'mongoose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SourceDto } from '../../shared/schemas/sources.js';
import { commandsDuring, startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { addSource, createBot, FAST_QUEUE_ENV, waitForSource } from './test/knowledge-client.js';
import { startTestSite, type TestSite } from './test/test-site.js';

/** A text document of a few sections, so each source makes several chunks. */
const documentOf = (n: number) =>
  [
    `# Guide ${n}`,
    ...[1, 2, 3].map(
      (s) =>
        `## Part ${s}\n\nGuide ${n} part ${s} says the code word of guide ${n} is word${n}x${s}. ${'Plain filler words keep the part long enough. '.repeat(12)}`,
    ),
  ].join('\n\n');

describe('adding sources in batches', () => {
  let t: TestApp;
  let org: TestOrg;
  let botId: string;
  let site: TestSite;

  beforeAll(async () => {
    site = await startTestSite({});
    t = await startTestApp({ env: { ...FAST_QUEUE_ENV, ALLOW_PRIVATE_URLS: 'true' } });
    org = await t.createOrg('Batch org');
    botId = await createBot(org.api);
  });
  afterEach(() => mongoose.set('debug', false));
  afterAll(async () => {
    await t.stop();
    await site.stop();
  });

  const postBatch = (sources: unknown[], headers?: Record<string, string>) =>
    org.api.post<SourceDto[]>(`/api/v1/chatbots/${botId}/sources/batch`, { sources }, headers);
  const countSources = async () => t.app.models.Source.countDocuments({ chatbotId: new Types.ObjectId(botId) });

  it('adds every source with one insert each for contents, sources and jobs, answers 202 in order, and processes them all', async () => {
    const items = [1, 2, 3, 4, 5, 6].map((n) => ({ type: 'text', title: `Guide ${n}`, content: documentOf(n) }));
    let res: Awaited<ReturnType<typeof postBatch>> | undefined;
    const commands = await commandsDuring(async () => {
      res = await postBatch(items);
    });
    expect(res?.status, JSON.stringify(res?.body.error)).toBe(202);
    const created = res?.body.data ?? [];
    expect(created.map((source) => source.title)).toEqual(items.map((item) => item.title));
    expect(created.every((source) => source.status === 'queued' && source.chatbotId === botId)).toBe(true);
    const writes = commands.filter((command) => /^(source_contents|sources|knowledge_jobs)\.insertMany$/.test(command));
    expect(writes.sort()).toEqual(['knowledge_jobs.insertMany', 'source_contents.insertMany', 'sources.insertMany']);

    const done = await Promise.all(created.map((source) => waitForSource(org.api, source.id)));
    expect(done.every((source) => source.status === 'ready' && source.counts.chunks >= 3)).toBe(true);
    const found = await t.app.services.knowledge.retriever.retrieve(
      { chatbotId: botId, organizationId: org.id },
      'Which guide uses the code word word4x2?',
    );
    expect(found.passages[0]?.sourceId).toBe(created[3]?.id);
  });

  it('refuses the whole batch when an item is invalid, naming each failing field by its path, and writes nothing', async () => {
    const before = await countSources();
    const res = await postBatch([
      { type: 'text', title: 'Fine', content: 'A perfectly good source.' },
      { type: 'text', title: 'No content' },
      { type: 'text', title: 'Extra', content: 'Text', colour: 'blue' },
      { type: 'url', url: 'http://10.0.0.1/private' },
      { type: 'file', title: 'Uploads go one at a time' },
    ]);
    expect(res.status).toBe(422);
    expect(res.body.error?.name).toBe('ValidationError');
    const paths = (res.body.error?.details as { fields: Array<{ path: string; message: string }> }).fields;
    expect(paths.map((field) => field.path)).toEqual(
      expect.arrayContaining(['sources.1.content', 'sources.2.colour', 'sources.4.type']),
    );
    expect(paths.find((field) => field.path === 'sources.2.colour')?.message).toContain('"colour"');
    expect(paths.some((field) => field.path.startsWith('sources.0'))).toBe(false);
    expect(await countSources()).toBe(before);
  });

  it('refuses a private address in any item, naming that item, and writes nothing', async () => {
    const strict = await startTestApp({ env: FAST_QUEUE_ENV });
    try {
      const owner = await strict.createOrg('Strict org');
      const bot = await createBot(owner.api);
      const res = await owner.api.post(`/api/v1/chatbots/${bot}/sources/batch`, {
        sources: [
          { type: 'url', url: 'https://example.com/fine' },
          { type: 'url', url: 'http://127.0.0.1/admin' },
          { type: 'url', url: 'http://169.254.169.254/latest' },
        ],
      });
      expect(res.status).toBe(422);
      const fields = (res.body.error?.details as { fields: Array<{ path: string }> }).fields;
      expect(fields.map((field) => field.path)).toEqual(['sources.1.url', 'sources.2.url']);
      expect(await strict.app.models.Source.countDocuments({})).toBe(0);
      expect(await strict.app.models.KnowledgeJob.countDocuments({})).toBe(0);
    } finally {
      await strict.stop();
    }
  });

  it('refuses an empty batch, one over the limit, and unknown top-level fields', async () => {
    expect((await postBatch([])).status).toBe(422);
    const tooMany = Array.from({ length: 101 }, (_, n) => ({ type: 'text', title: `T${n}`, content: 'x' }));
    const over = await postBatch(tooMany);
    expect(over.status).toBe(422);
    expect(JSON.stringify(over.body.error?.details)).toContain('"sources"');
    const extra = await org.api.post(`/api/v1/chatbots/${botId}/sources/batch`, { sources: [], mode: 'fast' });
    expect(extra.status).toBe(422);
    const fields = (extra.body.error?.details as { fields: Array<{ path: string; message: string }> }).fields;
    expect(fields).toContainEqual({ path: 'mode', message: '"mode" is not a known field' });
  });

  it('answers a repeated Idempotency-Key with the first response, writing the batch once', async () => {
    const before = await countSources();
    const items = [{ type: 'text', title: 'Once', content: 'Written exactly once, however often it is sent.' }];
    const headers = { 'idempotency-key': `batch-${new Types.ObjectId().toString()}` };
    const first = await postBatch(items, headers);
    const again = await postBatch(items, headers);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.data.map((source) => source.id)).toEqual(first.body.data.map((source) => source.id));
    expect(await countSources()).toBe(before + 1);
    const changed = await postBatch([{ ...items[0], title: 'Other' }], headers);
    expect(changed.status).toBe(422);
    expect(changed.body.error?.name).toBe('IdempotencyError');
  });

  it('processes batch-mates to the end when one of them fails', async () => {
    site.set('/missing', { status: 404, body: 'gone' });
    const res = await postBatch([
      { type: 'text', title: 'Mate 1', content: documentOf(11) },
      { type: 'url', url: `${site.url}/missing` },
      { type: 'text', title: 'Mate 2', content: documentOf(12) },
      { type: 'text', title: 'Mate 3', content: documentOf(13) },
    ]);
    expect(res.status).toBe(202);
    const done = await Promise.all(res.body.data.map((source) => waitForSource(org.api, source.id)));
    expect(done.map((source) => source.status)).toEqual(['ready', 'failed', 'ready', 'ready']);
    for (const source of done.filter((item) => item.status === 'ready')) {
      const chunks = await t.app.models.Chunk.find({ sourceId: new Types.ObjectId(source.id) }).lean();
      expect(chunks).toHaveLength(source.counts.chunks);
      expect(new Set(chunks.map((chunk) => chunk.run)).size).toBe(1);
    }
    const failed = new Types.ObjectId(done[1]?.id);
    expect(await t.app.models.Chunk.countDocuments({ sourceId: failed })).toBe(0);
  });

  it('processes jobs queued under a reservation that was never released once the reservation runs out', async () => {
    // As if the process died between writing a source with its held-back job and releasing it.
    const short = await startTestApp({ env: { ...FAST_QUEUE_ENV, KNOWLEDGE_JOB_LEASE_MS: '600' } });
    try {
      const owner = await short.createOrg('Reservation org');
      const bot = await createBot(owner.api);
      const { models, services } = short.app;
      const chatbot = await models.Chatbot.findById(bot).lean();
      const source = {
        _id: new Types.ObjectId(),
        organizationId: chatbot!.organizationId,
        chatbotId: chatbot!._id,
        revision: 1,
      };
      const queue = services.knowledge.queue;
      const reservation = queue.reserve();
      await models.SourceContent.create({
        organizationId: source.organizationId,
        chatbotId: source.chatbotId,
        sourceId: source._id,
        text: documentOf(21),
      });
      await Promise.all([
        models.Source.create({ ...source, type: 'text', title: 'Held back' }),
        queue.enqueueNew([source], reservation),
      ]);
      queue.notify();
      const ready = await waitForSource(owner.api, source._id.toString());
      expect(ready.status).toBe('ready');
      // The job's completion is written after the source reads ready (with the other completions of its batch).
      await expect
        .poll(() => models.KnowledgeJob.findOne({ sourceId: source._id }).lean(), { timeout: 15_000 })
        .toMatchObject({ status: 'done', attempts: 1 });
    } finally {
      await short.stop();
    }
  });

  it('answers single POSTs that arrive together (their inserts shared) each with its own source, every chunk its own', async () => {
    const items = [11, 12, 13, 14, 15, 16, 17, 18].map((n) => ({
      type: 'text',
      title: `Guide ${n}`,
      content: documentOf(n),
    }));
    const created = await Promise.all(items.map((item) => addSource(org.api, botId, item)));
    expect(created.map((source) => source.title)).toEqual(items.map((item) => item.title));
    expect(new Set(created.map((source) => source.id)).size).toBe(items.length);

    const done = await Promise.all(created.map((source) => waitForSource(org.api, source.id)));
    expect(done.every((source) => source.status === 'ready' && source.counts.chunks >= 3)).toBe(true);
    for (const [index, n] of [11, 12, 13, 14, 15, 16, 17, 18].entries()) {
      const found = await t.app.services.knowledge.retriever.retrieve(
        { chatbotId: botId, organizationId: org.id },
        `Which guide uses the code word word${n}x2?`,
      );
      expect(found.passages[0]?.sourceId).toBe(created[index]?.id);
    }
  });

  it('answers a single POST with two sequential writes: the content, then the source beside its job', async () => {
    let created: SourceDto | undefined;
    const commands = await commandsDuring(async () => {
      created = await addSource(org.api, botId, { type: 'text', title: 'Single', content: documentOf(31) });
    });
    const writes = commands.filter((command) => /^(source_contents|sources|knowledge_jobs)\.insertMany$/.test(command));
    expect(writes[0]).toBe('source_contents.insertMany');
    expect(writes.slice(1, 3).sort()).toEqual(['knowledge_jobs.insertMany', 'sources.insertMany']);
    expect((await waitForSource(org.api, created!.id)).status).toBe('ready');
  });
});
