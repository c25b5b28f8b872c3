import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_QUEUE_ENV, waitForSource } from '../../../server/knowledge/test/knowledge-client.js';
import { startFakeLlm, type FakeLlm } from '../../../server/test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp, type TestOrg } from '../../../server/test/test-app.js';
import { Wisp, WispApiError, type ChatStreamEvent } from '../src/index.js';

describe('the TypeScript SDK against a live server', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;
  let wisp: Wisp;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      env: { ...FAST_QUEUE_ENV, OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'fake-chat' },
    });
    org = await t.createOrg('SDK org');
    wisp = new Wisp({ apiKey: org.adminKey, baseUrl: t.url, retryBaseDelayMs: 10 });
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  it('creates, reads, updates and deletes chatbots, and iterates a list across pages', async () => {
    const created = await wisp.chatbots.create({ name: 'Paging one', instructions: 'Be brief.' });
    expect(created.identitySecret).toEqual(expect.any(String));
    await wisp.chatbots.create({ name: 'Paging two' });
    await wisp.chatbots.create({ name: 'Paging three' });
    expect((await wisp.chatbots.get(created.slug)).id).toBe(created.id);
    // The name earlier versions gave `get` still works.
    expect((await wisp.chatbots.retrieve(created.slug)).id).toBe(created.id);
    const updated = await wisp.chatbots.update(created.id, { instructions: 'Answer in one line.' });
    expect(updated.instructions).toBe('Answer in one line.');

    const firstPage = await wisp.chatbots.list({ perPage: 2 });
    expect(firstPage).toMatchObject({ page: 1, perPage: 2, total: 3, hasMore: true });
    const names: string[] = [];
    for await (const bot of wisp.chatbots.list({ perPage: 2 })) names.push(bot.name);
    expect(names.sort()).toEqual(['Paging one', 'Paging three', 'Paging two']);

    const secret = await wisp.chatbots.rotateIdentitySecret(created.id);
    expect(secret.identitySecret).not.toBe(created.identitySecret);
    await wisp.chatbots.delete(created.id);
    const gone = await wisp.chatbots.get(created.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(WispApiError);
    expect(gone).toMatchObject({ name: 'NotFoundError', status: 404, requestId: expect.any(String) });
  });

  it('adds knowledge, reads what was indexed, and chats as JSON and as a stream', async () => {
    const bot = await wisp.chatbots.create({ name: 'Knowing' });
    const source = await wisp.sources.create(bot.id, {
      type: 'text',
      title: 'Shipping',
      content: 'Parcels ship within 3 working days to every EU address.',
    });
    expect(source.status).toBe('queued');
    await waitForSource(org.api, source.id, ['ready']);
    const chunks = await wisp.sources.listChunks(source.id).toArray();
    expect(chunks[0]).toMatchObject({ text: expect.stringContaining('Parcels ship') });
    expect((await wisp.sources.list(bot.id)).items.map((s) => s.id)).toEqual([source.id]);
    const uploaded = await wisp.sources.upload(bot.id, new Blob(['# Returns\n\nThirty days.']), {
      filename: 'returns.md',
      title: 'Returns',
    });
    expect(uploaded).toMatchObject({ type: 'file', title: 'Returns' });

    const answer = await wisp.chat.send({ chatbot: bot.slug, message: 'How fast do parcels ship?' });
    expect(answer.response).toContain('Parcels ship');
    expect(answer.sources[0]).toMatchObject({ sourceId: source.id });

    const stream = await wisp.chat.stream({ chatbot: bot.slug, message: 'stream please', sessionId: 'sdk-user' });
    expect(stream.conversationId).toMatch(/^[0-9a-f]{24}$/);
    const events: ChatStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    const text = events.flatMap((e) => (e.type === 'chunk' ? [e.text] : [])).join('');
    const done = events.at(-1);
    expect(done?.type).toBe('done');
    if (done?.type === 'done') expect(done.result.response).toBe(text);

    const again = await wisp.chat.streamTo(bot.id, { message: 'once more', sessionId: 'sdk-user' });
    expect((await again.finalResult()).conversationId).toBe(stream.conversationId);

    const messages = await wisp.conversations.listMessages(stream.conversationId!).toArray();
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    await wisp.messages.sendFeedback(messages[1]!.id, { rating: 'up' });
    const conversation = await wisp.conversations.get(stream.conversationId!);
    expect(conversation.id).toBe(stream.conversationId);
    const listed = await wisp.conversations.list({ chatbotId: bot.id });
    expect(listed.total).toBe(2);
  });

  it('reads and changes widget settings, keys, usage, leads and model connections', async () => {
    const bot = await wisp.chatbots.create({ name: 'Settings' });
    const settings = await wisp.widgetSettings.update(bot.id, { welcomeMessage: 'Hello from the SDK' });
    expect(settings.settings.welcomeMessage).toBe('Hello from the SDK');
    expect((await wisp.widgetSettings.listHistory(bot.id)).total).toBeGreaterThan(0);
    expect((await wisp.widget.getConfig({ bot: bot.slug })).welcomeMessage).toBe('Hello from the SDK');

    const key = await wisp.apiKeys.create({ name: 'Reader', scopes: ['knowledge:read'] });
    const reader = new Wisp({ apiKey: key.key, baseUrl: t.url });
    expect((await reader.chatbots.list()).total).toBeGreaterThan(0);
    const forbidden = await reader.apiKeys.list().catch((e: unknown) => e);
    expect(forbidden).toMatchObject({ name: 'ForbiddenError', status: 403, details: { requiredScope: 'admin' } });
    await wisp.apiKeys.revoke(key.id);
    expect((await reader.chatbots.list().catch((e: unknown) => e)) as WispApiError).toMatchObject({ status: 401 });

    const usage = await wisp.usage.get();
    expect(usage.messages.used).toBeGreaterThanOrEqual(0);
    expect((await wisp.leads.list()).total).toBe(0);
    expect(await wisp.leads.exportCsv()).toMatch(/^[^\n]*email/i);
    expect((await wisp.integrations.list()).items).toEqual([]);
  });

  it('answers a typed ValidationError naming the field', async () => {
    const error = (await wisp.chatbots.create({ name: '' }).catch((e: unknown) => e)) as WispApiError;
    expect(error).toBeInstanceOf(WispApiError);
    expect(error.name).toBe('ValidationError');
    expect(error.status).toBe(422);
    expect(error.message).toContain('name');
    expect(error.details).toMatchObject({ fields: [expect.objectContaining({ path: 'name' })] });
  });
});
