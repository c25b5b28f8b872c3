import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

interface ChatData {
  response: string;
  model: string | null;
  finishReason: string;
  confidence: number;
}

describe('chat without a model, with model connections, and with quotas', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    fake = await startFakeLlm();
    // No OPENAI_* at all: bots answer from retrieval alone unless they use a model connection.
    // The connection's test model listens on loopback, which the operator allows here.
    t = await startTestApp({ env: { MODEL_RETRY_BACKOFF_MS: '10', URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1' } });
    org = await t.createOrg();
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  it('with no model configured, still answers and says plainly that no language model is configured', async () => {
    await org.api.post('/api/v1/chatbots', { name: 'Offline bot' });
    const res = await org.api.post<ChatData>('/api/v1/chat', {
      chatbot: 'offline-bot',
      message: 'What are your hours?',
    });
    expect(res.status).toBe(200);
    expect(res.body.data.response).toMatch(/no language model is configured/i);
    expect(res.body.data.model).toBeNull();
    expect(res.body.data.finishReason).toBe('no_model');
  });

  it('lists low-confidence questions in the gap log with counts for repeats', async () => {
    await org.api.post('/api/v1/chat', { chatbot: 'offline-bot', message: 'Do you ship to Mars?' });
    await org.api.post('/api/v1/chat', { chatbot: 'offline-bot', message: 'do you ship to mars' });
    // The gap log follows the answer (it subscribes to the turn's events): wait for it.
    await vi.waitFor(
      async () => {
        const gaps = await org.api.get<Array<{ question: string; count: number }>>(
          '/api/v1/chatbots/offline-bot/unanswered',
        );
        expect(gaps.status).toBe(200);
        expect(gaps.body.data[0]).toMatchObject({ count: 2 });
        expect(gaps.body.data.map((g) => g.question)).toContain('What are your hours?');
      },
      { timeout: 10_000 },
    );
  });

  it('when the owner enabled it, asks for an email it cannot answer and turns the email the visitor gives into a lead', async () => {
    await org.api.post('/api/v1/chatbots', { name: 'Asker' });
    const patched = await org.api.patch('/api/v1/chatbots/asker/widget-settings', {
      leadCapture: { askEmailWhenUnanswered: true },
    });
    expect(patched.status).toBe(200);
    const first = await org.api.post<ChatData & { conversationId: string }>('/api/v1/chat', {
      chatbot: 'asker',
      message: 'Do you sell unicorns?',
    });
    expect(first.body.data.response).toMatch(/leave your email address/);
    await org.api.post('/api/v1/chat', {
      chatbot: 'asker',
      message: 'Sure: ada@example.com',
      conversationId: first.body.data.conversationId,
    });
    // The lead follows the message (the capture subscribes to the turn's events): wait for it.
    await vi.waitFor(
      async () => {
        const leads = await org.api.get<Array<{ email: string }>>('/api/v1/leads?chatbotId=asker');
        expect(leads.body.data.map((lead) => lead.email)).toEqual(['ada@example.com']);
      },
      { timeout: 10_000 },
    );
  });

  it('stores a model connection with its key encrypted, never returns the key, and uses it for a bot', async () => {
    const created = await org.api.post<{ id: string; hasApiKey: boolean }>('/api/v1/integrations', {
      name: 'Local fake',
      baseUrl: fake.url,
      apiKey: 'sk-provider-secret-123',
      chatModel: 'fake-chat',
      embeddingModel: 'fake-embed',
    });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain('sk-provider-secret-123');
    expect(created.body.data.hasApiKey).toBe(true);
    const raw = await t.app.models.Integration.findById(created.body.data.id).lean();
    expect(raw?.apiKeyEncrypted).not.toContain('sk-provider-secret-123');

    await org.api.post('/api/v1/chatbots', {
      name: 'Connected',
      modelSettings: { integrationId: created.body.data.id, model: null },
    });
    const res = await org.api.post<ChatData>('/api/v1/chat', {
      chatbot: 'connected',
      message: 'through the connection',
    });
    expect(res.body.data).toMatchObject({ response: 'Echo: through the connection', model: 'fake-chat' });

    const inUse = await org.api.delete(`/api/v1/integrations/${created.body.data.id}`);
    expect(inUse.status).toBe(409);
    const other = await t.createOrg('Other');
    expect((await other.api.get(`/api/v1/integrations/${created.body.data.id}`)).status).toBe(404);
    const foreign = await other.api.post('/api/v1/chatbots', {
      name: 'Borrower',
      modelSettings: { integrationId: created.body.data.id },
    });
    expect(foreign.status).toBe(422);
  });

  it('warns once 80% of the monthly quota is used and refuses past it with 429 QuotaExceededError', async () => {
    const quotaOrg = await t.createOrg('Quota org');
    await t.app.models.Organization.updateOne({ _id: quotaOrg.id }, { monthlyMessageQuota: 5 });
    await quotaOrg.api.post('/api/v1/chatbots', { name: 'Quota bot' });
    const send = () => quotaOrg.api.post('/api/v1/chat', { chatbot: 'quota-bot', message: 'count me' });
    const statuses: number[] = [];
    const warnings: Array<string | null> = [];
    for (let i = 0; i < 6; i += 1) {
      const res = await send();
      statuses.push(res.status);
      warnings.push(res.headers.get('wisp-quota-warning'));
      if (i === 5) {
        expect(res.body.error?.name).toBe('QuotaExceededError');
        const retryAfter = Number(res.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThan(0);
        expect(res.body.error?.details).toMatchObject({ used: 5, limit: 5, retryAfter });
        expect(res.body.error?.message).toMatch(/it resets at \d{4}-\d{2}-01T00:00:00\.000Z/);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    // The answer that brings usage to 4 of 5 says so.
    expect(warnings.slice(0, 3)).toEqual([null, null, null]);
    expect(warnings[3]).toBe('80% of the monthly message quota (5) is used');
    expect(warnings[4]).toBe('100% of the monthly message quota (5) is used');

    // A refused message starts no conversation, with or without a clientMessageId (the widget always sends one),
    // streamed or not; a refused message in a conversation adds nothing to it.
    const conversationsBefore =
      await quotaOrg.api.get<Array<{ id: string; messageCount: number }>>('/api/v1/conversations');
    // The five answered turns' conversations, none from the sixth, refused without a clientMessageId.
    expect(conversationsBefore.body.data.map((conversation) => conversation.messageCount)).toEqual([2, 2, 2, 2, 2]);
    const refused = [
      await quotaOrg.api.post('/api/v1/chat', { chatbot: 'quota-bot', message: 'new', clientMessageId: 'refused-1' }),
      await quotaOrg.api.post('/api/v1/chat', {
        chatbot: 'quota-bot',
        message: 'new, streamed',
        clientMessageId: 'refused-2',
        stream: true,
      }),
      await quotaOrg.api.post('/api/v1/chat', {
        chatbot: 'quota-bot',
        message: 'more',
        clientMessageId: 'refused-3',
        conversationId: conversationsBefore.body.data[0]!.id,
      }),
    ];
    expect(refused.map((res) => [res.status, res.body.error?.name])).toEqual([
      [429, 'QuotaExceededError'],
      [429, 'QuotaExceededError'],
      [429, 'QuotaExceededError'],
    ]);
    const conversationsAfter =
      await quotaOrg.api.get<Array<{ id: string; messageCount: number }>>('/api/v1/conversations');
    expect(conversationsAfter.body.data).toEqual(conversationsBefore.body.data);
    expect(await t.app.models.Message.countDocuments({ content: { $in: ['new', 'new, streamed', 'more'] } })).toBe(0);
  });
});
