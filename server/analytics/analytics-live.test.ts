import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsReport } from '../../shared/schemas/analytics.js';
import { FAST_QUEUE_ENV, waitForSource } from '../knowledge/test/knowledge-client.js';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { rebuildRollupsFromRecords } from './analytics.fixtures.js';

interface ChatData {
  conversationId: string;
  messageId: string;
  sources: unknown[];
}

/**
 * Rollups kept up to date by real chat turns (answered, unanswered, a model failure then its retry, feedback,
 * concurrent turns, a deleted conversation) agree with a recomputation from the raw records, and stay so when
 * events come twice, when an update stops halfway, and when a server is killed between a write and its event.
 */
describe('analytics rollups kept up to date by chat turns', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;
  let botId: string;

  const since = () => new Date(Date.now() - 2 * 86_400_000).toISOString();
  let from: string;
  // A fixed end too: a report ending now ends on the current quarter hour, and two reports around its turn differ.
  let to: string;
  const report = async () => {
    const res = await org.api.get<AnalyticsReport>(`/api/v1/analytics?chatbotId=${botId}&from=${from}&to=${to}&top=50`);
    if (res.status !== 200) throw new Error(`analytics answered ${res.status}: ${JSON.stringify(res.body.error)}`);
    return res.body.data;
  };
  const chat = async (body: Record<string, unknown>) => {
    const res = await org.api.post<ChatData>('/api/v1/chat', { chatbotId: botId, ...body });
    return res;
  };
  /** What a rebuild from the raw records alone gives. */
  const recomputed = async () => {
    await rebuildRollupsFromRecords(t.app, [botId]);
    return report();
  };

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      env: {
        ...FAST_QUEUE_ENV,
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-chat',
        MODEL_MAX_RETRIES: '0',
        MODEL_RETRY_BACKOFF_MS: '10',
      },
    });
    org = await t.createOrg('Live analytics');
    botId = (await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Outdoor shop' })).body.data.id;
    const source = await org.api.post<{ id: string }>(`/api/v1/chatbots/${botId}/sources`, {
      type: 'text',
      title: 'Returns',
      content: 'Tents can be returned within 30 days of delivery, unused and in their original bag.',
    });
    await waitForSource(org.api, source.body.data.id, ['ready']);
    await t.app.services.rollups.idle();
    from = since();
    to = new Date(Date.now() + 86_400_000).toISOString();
  });
  afterAll(async () => {
    await t.stop();
    await fake.stop();
  });

  it('agrees with a recomputation after answered, unanswered, failed, retried, rated, concurrent and deleted turns', async () => {
    const first = await chat({ message: 'Can tents be returned?', sessionId: 'alice' });
    expect(first.status).toBe(200);
    expect(first.body.data.sources.length).toBeGreaterThan(0);
    const conversationId = first.body.data.conversationId;
    expect((await chat({ message: 'Do you sell kayaks?', conversationId })).status).toBe(200);
    expect((await chat({ message: 'can tents be returned', sessionId: 'bob' })).status).toBe(200);

    // A model failure, then the same message sent again: the failed answer is taken over and completes.
    fake.failNext(1, 500);
    const failed = await chat({ message: 'When do tents arrive?', sessionId: 'carol', clientMessageId: 'carol-1' });
    expect(failed.status).toBe(503);
    const middle = await report();
    expect(middle.totals.modelFailures).toBe(1);
    const retried = await chat({ message: 'When do tents arrive?', sessionId: 'carol', clientMessageId: 'carol-1' });
    expect(retried.status).toBe(200);

    // Feedback, changed afterwards.
    const answerId = first.body.data.messageId;
    expect((await org.api.post(`/api/v1/messages/${answerId}/feedback`, { rating: 'up' })).status).toBe(200);
    expect((await org.api.post(`/api/v1/messages/${answerId}/feedback`, { rating: 'down' })).status).toBe(200);

    // Turns at once, in one conversation and in several.
    const together = await Promise.all([
      ...Array.from({ length: 4 }, (_, i) => chat({ message: `Is tent ${i} waterproof?` })),
      ...Array.from({ length: 3 }, (_, i) => chat({ message: `Tent returns question ${i}`, conversationId })),
    ]);
    expect(together.map((res) => res.status)).toEqual(Array(7).fill(200));

    // A conversation deleted.
    const doomed = await chat({ message: 'Delete me later', sessionId: 'dave' });
    expect((await org.api.delete(`/api/v1/conversations/${doomed.body.data.conversationId}`)).status).toBe(200);

    const live = await report();
    expect(live.totals).toMatchObject({
      conversations: 7,
      visitorMessages: 11,
      answers: 11,
      uniqueVisitors: 7,
      modelFailures: 0,
      feedback: { up: 0, down: 1 },
    });
    expect(live.totals.firstTokenMs.samples).toBe(11);
    expect(live.top.questions[0]).toMatchObject({ normalized: 'can tents be returned', count: 2 });

    // The same events delivered again change nothing.
    const messages = await t.app.models.Message.find({ chatbotId: new Types.ObjectId(botId) }, '_id conversationId');
    for (const message of messages) {
      await t.app.services.rollups.applyChange(botId, message.conversationId.toString(), [message._id.toString()]);
    }
    expect(await report()).toEqual(live);

    expect(await recomputed()).toEqual(live);
  });

  it('applies nothing of an older snapshot of a record than the one counted', async () => {
    const before = await report();
    const answer = await t.app.models.Message.findOne(
      { chatbotId: new Types.ObjectId(botId), role: 'assistant', status: 'complete' },
      '_id conversationId',
    ).lean();
    const { AnalyticsFact } = t.app.models;
    const path = `e.m${answer!._id.toString()}`;
    const fact = await AnalyticsFact.collection.findOne({ _id: answer!.conversationId });
    const counted = (fact!.e as Record<string, { u: string; n: Record<string, number> }>)[
      `m${answer!._id.toString()}`
    ]!;
    // The fact holds a newer snapshot of the answer (with other figures) than the record the event reads.
    await AnalyticsFact.collection.updateOne(
      { _id: answer!.conversationId },
      { $set: { [`${path}.u`]: '2999-01-01T00:00:00.000Z', [`${path}.n`]: { answers: 7 } } },
    );
    await t.app.services.rollups.applyChange(botId, answer!.conversationId.toString(), [answer!._id.toString()]);
    expect(await report()).toEqual(before);
    const kept = await AnalyticsFact.collection.findOne({ _id: answer!.conversationId });
    expect((kept!.e as Record<string, { u: string }>)[`m${answer!._id.toString()}`]!.u).toBe(
      '2999-01-01T00:00:00.000Z',
    );
    await AnalyticsFact.collection.updateOne({ _id: answer!.conversationId }, { $set: { [path]: counted } });
  });

  it('counts nothing of a conversation deleted while its answer streams', async () => {
    const before = await report();
    const res = await fetch(`${t.url}/api/v1/chat`, {
      method: 'POST',
      headers: org.api.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ chatbotId: botId, message: 'Do you ship abroad? #slow', sessionId: 'gone', stream: true }),
    });
    // The headers come once the turn is accepted: its question is stored and announced.
    const conversationId = res.headers.get('wisp-conversation-id');
    expect(conversationId).toBeTruthy();
    expect((await org.api.delete(`/api/v1/conversations/${conversationId}`)).status).toBe(200);
    await res.text();
    await t.app.services.rollups.settled();
    expect(await report()).toEqual(before);
    expect(await recomputed()).toEqual(before);
  });

  it('counts nothing of a conversation deleted right after its turn, while the answer’s change waits', async () => {
    const before = await report();
    const res = await chat({ message: 'Is the shop open on Sundays?', sessionId: 'deleted-after' });
    expect(res.status).toBe(200);
    // The turn did not wait for analytics: its answer's change is held (up to 100 ms) when the deletion comes.
    expect((await org.api.delete(`/api/v1/conversations/${res.body.data.conversationId}`)).status).toBe(200);
    await t.app.services.rollups.settled();
    expect(await report()).toEqual(before);
    expect(await recomputed()).toEqual(before);
  });

  it('recomputes, in the reconciliation, a day whose update stopped halfway', async () => {
    const expected = await report();
    const today = new Date().toISOString().slice(0, 10);
    const key = `${botId}:${today}`;
    // What a crash between the fact and the day update leaves: a count off (in one of the day's shards), and the
    // day still flagged.
    const shard = await t.app.models.AnalyticsDay.findOne({ key: { $regex: `^${key}:` } }, 'key').lean();
    await t.app.models.AnalyticsDay.collection.updateOne(
      { key: shard!.key },
      { $inc: { 's.q0.api.n.answers': 5, rev: 1 } },
    );
    await t.app.models.AnalyticsMark.collection.updateOne(
      { key },
      {
        $set: { pending: 1, touchedAt: new Date(Date.now() - 120_000) },
        $setOnInsert: {
          chatbotId: new Types.ObjectId(botId),
          organizationId: new Types.ObjectId(org.id),
          day: new Date(`${today}T00:00:00Z`),
        },
      },
      { upsert: true },
    );
    expect((await report()).totals.answers).toBe(expected.totals.answers + 5);
    expect(await t.app.services.rollups.reconcile()).toBe(1);
    expect(await report()).toEqual(expected);
    expect(await t.app.models.AnalyticsMark.countDocuments({ key })).toBe(0);
    // The facts were recomputed too: a later change applies on top of the right figures.
    const later = await chat({ message: 'Can tents be returned?', sessionId: 'erin' });
    expect(later.status).toBe(200);
    const after = await report();
    expect(after.totals.answers).toBe(expected.totals.answers + 1);
    expect(await recomputed()).toEqual(after);
  });

  it('applies again what a server killed between a write and its event left out', async () => {
    const before = await report();
    const answer = await t.app.models.Message.findOne({
      chatbotId: new Types.ObjectId(botId),
      role: 'assistant',
      'feedback.rating': null,
      status: 'complete',
    });
    // The write landed; the process died before announcing it, its run still beating a moment ago.
    await t.app.models.Message.updateOne({ _id: answer!._id }, { $set: { 'feedback.rating': 'up' } });
    await t.app.models.AnalyticsRun.create({ _id: 'killed-run', startedAt: new Date(), heartbeatAt: new Date() });
    expect((await report()).totals.feedback.up).toBe(before.totals.feedback.up);
    const leaseMs = t.config.ANALYTICS_RECONCILE_LEASE_MS;
    expect(await t.app.services.rollups.recover(Date.now() + leaseMs + 1)).toBe(1);
    const after = await report();
    expect(after.totals.feedback.up).toBe(before.totals.feedback.up + 1);
    expect(await recomputed()).toEqual(after);
  });
});
