import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsReport } from '../../shared/schemas/analytics.js';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { rebuildRollupsFromRecords } from './analytics.fixtures.js';

/**
 * On a sole server a turn's conversation is not read back by analytics when no deletion of it (or of its bot)
 * started since the turn wrote it: turns still count once, and a conversation or bot deleted while its answer
 * streams still counts nothing.
 */
describe('analytics on a sole server', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;
  let botId: string;

  // A fixed range: a report ending now ends on the current quarter hour, and two reports around its turn differ.
  const from = new Date(Date.now() - 2 * 86_400_000).toISOString();
  const to = new Date(Date.now() + 86_400_000).toISOString();
  const report = async (chatbotId = botId) => {
    const res = await org.api.get<AnalyticsReport>(
      `/api/v1/analytics?chatbotId=${chatbotId}&from=${from}&to=${to}&top=50`,
    );
    if (res.status !== 200) throw new Error(`analytics answered ${res.status}: ${JSON.stringify(res.body.error)}`);
    return res.body.data;
  };
  const chat = (body: Record<string, unknown>) =>
    org.api.post<{ conversationId: string }>('/api/v1/chat', { chatbotId: botId, ...body });
  /** Starts a streamed turn whose answer is slow; resolves once it is accepted. */
  const slowTurn = async (chatbotId: string, sessionId: string) => {
    const res = await fetch(`${t.url}/api/v1/chat`, {
      method: 'POST',
      headers: org.api.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ chatbotId, message: 'Do you ship abroad? #slow', sessionId, stream: true }),
    });
    const conversationId = res.headers.get('wisp-conversation-id');
    expect(conversationId).toBeTruthy();
    return { conversationId: conversationId!, rest: () => res.text() };
  };
  const createBot = async (name: string) =>
    (await org.api.post<{ id: string }>('/api/v1/chatbots', { name })).body.data.id;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'fake-chat' },
      soleServer: true,
    });
    org = await t.createOrg('Sole server analytics');
    botId = await createBot('Shop');
    await t.app.services.rollups.idle();
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  it('counts new and continued conversations once each, as a recomputation from the records does', async () => {
    expect((await chat({ message: 'Can tents be returned?', sessionId: 'alice' })).status).toBe(200);
    expect((await chat({ message: 'Do you sell kayaks?', sessionId: 'alice' })).status).toBe(200);
    expect((await chat({ message: 'Where is my order?' })).status).toBe(200);
    await t.app.services.rollups.settled();
    const live = await report();
    expect(live.totals).toMatchObject({ conversations: 2, visitorMessages: 3, answers: 3, uniqueVisitors: 2 });
    // Every day flag raised for these updates was lowered once they were done (late, but not left for the reconciliation).
    expect(await t.app.models.AnalyticsMark.countDocuments({ pending: { $ne: 0 } })).toBe(0);

    await rebuildRollupsFromRecords(t.app, [botId]);
    expect(await report()).toEqual(live);
  });

  it('counts nothing of a conversation deleted while its answer streams', async () => {
    const before = await report();
    const turn = await slowTurn(botId, 'gone');
    expect((await org.api.delete(`/api/v1/conversations/${turn.conversationId}`)).status).toBe(200);
    await turn.rest();
    await t.app.services.rollups.settled();
    expect(await report()).toEqual(before);
  });

  it('counts nothing of a conversation deleted right after its turn, while the answer’s change waits', async () => {
    const before = await report();
    const res = await chat({ message: 'Is the shop open on Sundays?', sessionId: 'deleted-after' });
    expect(res.status).toBe(200);
    expect((await org.api.delete(`/api/v1/conversations/${res.body.data.conversationId}`)).status).toBe(200);
    await t.app.services.rollups.settled();
    expect(await report()).toEqual(before);
  });

  it('keeps no rollups of a bot deleted while its answer streams', async () => {
    const doomed = await createBot('Doomed');
    const turn = await slowTurn(doomed, 'last');
    expect((await org.api.delete(`/api/v1/chatbots/${doomed}`)).status).toBe(200);
    await turn.rest();
    await t.app.services.rollups.settled();
    const chatbotId = new Types.ObjectId(doomed);
    const { models } = t.app;
    expect(await models.AnalyticsFact.countDocuments({ chatbotId })).toBe(0);
    expect(await models.AnalyticsDay.countDocuments({ chatbotId })).toBe(0);
  });
});
