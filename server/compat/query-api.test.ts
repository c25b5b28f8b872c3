import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_QUEUE_ENV, waitForSource } from '../knowledge/test/knowledge-client.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { signUserToken } from '../test/user-token.js';
import { replay } from './test/replay.js';

interface QueryAnswer {
  answer: string;
  sources: Array<{ document_id: string; excerpt: string }>;
  confidence: number;
  conversation_id: string;
}

describe('the /v1/query dialect', () => {
  let t: TestApp;
  let org: TestOrg;
  let botId: string;
  let sourceId: string;
  let userToken: string;

  beforeAll(async () => {
    t = await startTestApp({ env: FAST_QUEUE_ENV });
    org = await t.createOrg('Query org');
    const bot = await org.api.post<{ id: string; identitySecret: string }>('/api/v1/chatbots', { name: 'Billing' });
    botId = bot.body.data.id;
    const source = await org.api.post<{ id: string }>(`/api/v1/chatbots/${botId}/sources`, {
      type: 'text',
      title: 'Subscriptions',
      content: 'Your subscription renews on the first day of each month. Renewal emails go out a week before.',
    });
    sourceId = source.body.data.id;
    await waitForSource(org.api, sourceId, ['ready']);
    userToken = await signUserToken(
      bot.body.data.identitySecret,
      { sub: 'customer-42', email: 'ada@example.com' },
      '5m',
    );
  });
  afterAll(() => t.stop());

  const query = (body: string) =>
    replay(t.url, org.adminKey, {
      method: 'POST',
      path: '/v1/query',
      headers: { Authorization: 'Bearer sk_live_your_key_here', 'Content-Type': 'application/json' },
      body,
    });

  it('the query example answers the text, sources with document ids and excerpts, confidence and conversation_id', async () => {
    const first = await query(`{"message": "When does my subscription renew?", "conversation_id": null}`);
    expect(first.status, first.text).toBe(200);
    const conversationId = (first.json?.data as QueryAnswer).conversation_id;

    const res = await query(`{
  "message": "When does my subscription renew?",
  "conversation_id": "${conversationId}",
  "user_token": "${userToken}"
}`);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      success: true,
      error: null,
      data: {
        answer: expect.any(String),
        confidence: expect.any(Number),
        conversation_id: conversationId,
      },
    });
    const data = res.json?.data as QueryAnswer;
    expect(data.sources.length).toBeGreaterThan(0);
    expect(data.sources[0]).toMatchObject({ document_id: sourceId, excerpt: expect.stringContaining('renews') });
    const detail = await org.api.get<{ user: { sub: string } }>(`/api/v1/conversations/${conversationId}`);
    expect(detail.body.data.user).toMatchObject({ sub: 'customer-42' });
  });

  it("refuses a user_token not signed with the bot's identity secret", async () => {
    const res = await query(
      `{"message": "When does my subscription renew?", "user_token": "jwt_for_authenticated_user"}`,
    );
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ success: false, error: { name: 'UnauthorizedError' } });
  });

  it('refuses unknown fields naming them, and an unknown conversation', async () => {
    const extra = await query(`{"message": "Hi", "conversationId": "abc"}`);
    expect(extra.status).toBe(422);
    expect((extra.json?.error as { message: string }).message).toContain('conversationId');
    const missing = await query(`{"message": "Hi", "conversation_id": "0123456789abcdef01234567"}`);
    expect(missing.status).toBe(404);
  });

  it('with several bots, asks for chatbot_id and then uses it', async () => {
    const multi = await t.createOrg('Two bots');
    await multi.api.post('/api/v1/chatbots', { name: 'One' });
    await multi.api.post('/api/v1/chatbots', { name: 'Two', slug: 'two' });
    const unnamed = await multi.api.post('/v1/query', { message: 'Hi' });
    expect(unnamed.status).toBe(422);
    expect(unnamed.body.error?.message).toContain('chatbot_id');
    const named = await multi.api.post<QueryAnswer>('/v1/query', { message: 'Hi', chatbot_id: 'two' });
    expect(named.status).toBe(200);
    expect(named.body.data.conversation_id).toMatch(/^[0-9a-f]{24}$/);
    const empty = await t.createOrg('No bots');
    expect((await empty.api.post('/v1/query', { message: 'Hi' })).status).toBe(404);
  });
});
