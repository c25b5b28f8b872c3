import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsReport } from '../../shared/schemas/analytics.js';
import { CANCELLED_ANSWER } from '../chat/answer.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { HistoryBuilder } from './analytics.fixtures.js';

const RESET = { sourceId: 'src-reset', title: 'Reset guide', url: 'https://help.example/reset' };
const SHIPPING = { sourceId: 'src-shipping', title: 'Shipping', url: null };

/**
 * Bot A's history, 1-3 March 2026 (UTC). Every figure asserted below can be counted by hand from it.
 * c2 starts at 18:15Z: 23:45 on the 1st in Kolkata (+05:30), 00:00 on the 2nd in Kathmandu (+05:45).
 */
function botAHistory(history: HistoryBuilder): void {
  history
    .conversation('2026-03-01T09:00:00Z', { channel: 'widget', visitorId: 'v1' })
    .turn('2026-03-01T09:00:10Z', 'How do I reset my password?', {
      confidence: 0.8,
      sources: [RESET],
      promptTokens: 100,
      completionTokens: 20,
      firstTokenMs: 120,
      feedback: 'up',
    })
    .turn('2026-03-01T09:05:00Z', 'How do I reset my password??', {
      confidence: 0.2,
      sources: [RESET],
      promptTokens: 90,
      completionTokens: 10,
      firstTokenMs: 300,
      feedback: 'down',
    });
  history
    .conversation('2026-03-01T18:15:00Z', { channel: 'widget', visitorId: 'v1' })
    .turn('2026-03-01T18:15:05Z', 'Do you ship to Norway?', {
      confidence: 0,
      promptTokens: 50,
      completionTokens: 5,
      firstTokenMs: 80,
    });
  history
    .conversation('2026-03-02T10:00:00Z', { channel: 'api', sessionId: 's1' })
    .turn('2026-03-02T10:00:05Z', 'how do i reset my password', {
      confidence: 0.9,
      sources: [RESET, SHIPPING],
      promptTokens: 120,
      completionTokens: 30,
      firstTokenMs: 200,
    })
    .turn('2026-03-02T10:01:00Z', 'Do you ship to Norway', { status: 'failed', error: 'The model is unavailable' });
  history
    .conversation('2026-03-02T10:05:00Z', { channel: 'api' })
    .turn('2026-03-02T10:05:05Z', 'Pricing?', { status: 'failed', error: CANCELLED_ANSWER });
  history
    .conversation('2026-03-03T00:10:00Z', { channel: 'widget', visitorId: 'v2' })
    .turn('2026-03-03T00:10:05Z', 'Do you ship to Norway?', {
      confidence: 0.1,
      promptTokens: 40,
      completionTokens: 4,
      firstTokenMs: 150,
    })
    .turn('2026-03-03T00:12:00Z', 'Thanks', { status: 'pending' });
  history.lead('2026-03-01T09:10:00Z');
  history.lead('2026-03-03T01:00:00Z');
}

const MARCH = 'from=2026-03-01&to=2026-03-03';

describe('analytics API', () => {
  let t: TestApp;
  let org: TestOrg;
  let botA: { id: string };
  let botB: { id: string };

  const report = async (query: string, client = org.api) => {
    const res = await client.get<AnalyticsReport>(`/api/v1/analytics?${query}`);
    if (res.status !== 200) throw new Error(`analytics answered ${res.status}: ${JSON.stringify(res.body.error)}`);
    return res.body.data;
  };

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('Analytics');
    const other = await t.createOrg('Elsewhere');
    const create = async (owner: TestOrg, name: string) =>
      (await owner.api.post<{ id: string }>('/api/v1/chatbots', { name })).body.data;
    botA = await create(org, 'Support');
    botB = await create(org, 'Sales');
    const otherBot = await create(other, 'Not ours');
    const historyA = new HistoryBuilder(new Types.ObjectId(org.id), new Types.ObjectId(botA.id));
    botAHistory(historyA);
    await historyA.insert(t.app.models);
    const historyB = new HistoryBuilder(new Types.ObjectId(org.id), new Types.ObjectId(botB.id));
    historyB
      .conversation('2026-03-02T12:00:00Z', { channel: 'widget', visitorId: 'b1' })
      .turn('2026-03-02T12:00:01Z', 'Any discounts?', { confidence: 0.5, promptTokens: 10, completionTokens: 1 });
    await historyB.insert(t.app.models);
    const historyOther = new HistoryBuilder(new Types.ObjectId(other.id), new Types.ObjectId(otherBot.id));
    historyOther
      .conversation('2026-03-02T12:00:00Z', { channel: 'api' })
      .turn('2026-03-02T12:00:01Z', 'Secret question', { confidence: 0.5 });
    await historyOther.insert(t.app.models);
    // Records written behind the app's back are history from before: rolled up by the backfill that runs at start.
    await t.app.services.rollups.idle();
    await t.app.services.rollups.backfill([botA.id, botB.id, otherBot.id]);
  });
  afterAll(() => t.stop());

  it("agrees with every figure of a bot's known history", async () => {
    const data = await report(`chatbotId=${botA.id}&${MARCH}`);
    expect(data).toMatchObject({
      chatbotId: botA.id,
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-04T00:00:00.000Z',
      timezone: 'UTC',
      granularity: 'day',
      lowConfidenceThreshold: 0.5,
    });
    const { byChannel, ...totals } = data.totals;
    expect(totals).toEqual({
      conversations: 5,
      visitorMessages: 8,
      answers: 5,
      uniqueVisitors: 4,
      answered: 2,
      lowConfidence: 1,
      unanswered: 2,
      answeredShare: 0.4,
      lowConfidenceShare: 0.2,
      unansweredShare: 0.4,
      feedback: { up: 1, down: 1 },
      tokens: { prompt: 400, completion: 69, total: 469 },
      modelFailures: 1,
      firstTokenMs: { p50: 150, p95: 300, samples: 5 },
      leads: 2,
    });
    expect(byChannel.widget).toEqual({
      conversations: 3,
      visitorMessages: 5,
      answers: 4,
      uniqueVisitors: 2,
      answered: 1,
      lowConfidence: 1,
      unanswered: 2,
      answeredShare: 0.25,
      lowConfidenceShare: 0.25,
      unansweredShare: 0.5,
      feedback: { up: 1, down: 1 },
      tokens: { prompt: 280, completion: 39, total: 319 },
      modelFailures: 0,
      firstTokenMs: { p50: 120, p95: 300, samples: 4 },
    });
    expect(byChannel.api).toEqual({
      conversations: 2,
      visitorMessages: 3,
      answers: 1,
      uniqueVisitors: 2,
      answered: 1,
      lowConfidence: 0,
      unanswered: 0,
      answeredShare: 1,
      lowConfidenceShare: 0,
      unansweredShare: 0,
      feedback: { up: 0, down: 0 },
      tokens: { prompt: 120, completion: 30, total: 150 },
      modelFailures: 1,
      firstTokenMs: { p50: 200, p95: 200, samples: 1 },
    });
    expect(data.top.questions).toEqual([
      { question: expect.stringMatching(/ship to norway/i), normalized: 'do you ship to norway', count: 3 },
      { question: expect.stringMatching(/reset my password/i), normalized: 'how do i reset my password', count: 3 },
      { question: 'Pricing?', normalized: 'pricing', count: 1 },
      { question: 'Thanks', normalized: 'thanks', count: 1 },
    ]);
    expect(data.top.unanswered).toEqual([
      { question: 'Do you ship to Norway?', normalized: 'do you ship to norway', count: 2 },
      { question: 'How do I reset my password??', normalized: 'how do i reset my password', count: 1 },
    ]);
    expect(data.top.sources).toEqual([
      { ...RESET, count: 3 },
      { ...SHIPPING, count: 1 },
    ]);
    const day = (index: number) => {
      const point = data.series[index]!;
      return {
        start: point.start,
        conversations: point.conversations,
        visitorMessages: point.visitorMessages,
        answers: point.answers,
        uniqueVisitors: point.uniqueVisitors,
        modelFailures: point.modelFailures,
        leads: point.leads,
        p95: point.firstTokenMs.p95,
      };
    };
    expect(data.series).toHaveLength(3);
    expect([day(0), day(1), day(2)]).toEqual([
      {
        start: '2026-03-01T00:00:00.000Z',
        conversations: 2,
        visitorMessages: 3,
        answers: 3,
        uniqueVisitors: 1,
        modelFailures: 0,
        leads: 1,
        p95: 300,
      },
      {
        start: '2026-03-02T00:00:00.000Z',
        conversations: 2,
        visitorMessages: 3,
        answers: 1,
        uniqueVisitors: 2,
        modelFailures: 1,
        leads: 0,
        p95: 200,
      },
      {
        start: '2026-03-03T00:00:00.000Z',
        conversations: 1,
        visitorMessages: 2,
        answers: 1,
        uniqueVisitors: 1,
        modelFailures: 0,
        leads: 1,
        p95: 150,
      },
    ]);
  });

  it('cuts days in the time zone asked for, including half- and quarter-hour offsets', async () => {
    const conversationsByDay = async (timezone: string) => {
      const data = await report(`chatbotId=${botA.id}&${MARCH}&timezone=${encodeURIComponent(timezone)}`);
      return { from: data.from, to: data.to, days: data.series.map((p) => [p.start, p.conversations]) };
    };
    expect(await conversationsByDay('Asia/Kolkata')).toEqual({
      from: '2026-02-28T18:30:00.000Z',
      to: '2026-03-03T18:30:00.000Z',
      days: [
        ['2026-02-28T18:30:00.000Z', 2],
        ['2026-03-01T18:30:00.000Z', 2],
        ['2026-03-02T18:30:00.000Z', 1],
      ],
    });
    expect((await conversationsByDay('Asia/Kathmandu')).days).toEqual([
      ['2026-02-28T18:15:00.000Z', 1],
      ['2026-03-01T18:15:00.000Z', 3],
      ['2026-03-02T18:15:00.000Z', 1],
    ]);
    // New York is at -05:00 until 8 March; the period ends at local midnight after the 3rd.
    expect((await conversationsByDay('America/New_York')).to).toBe('2026-03-04T05:00:00.000Z');
  });

  it('groups by ISO week (from Monday) and by month, clipping the first and last period to the range', async () => {
    const weeks = await report(`chatbotId=${botA.id}&${MARCH}&granularity=week`);
    expect(weeks.series.map((p) => [p.start, p.end, p.conversations])).toEqual([
      ['2026-03-01T00:00:00.000Z', '2026-03-02T00:00:00.000Z', 2],
      ['2026-03-02T00:00:00.000Z', '2026-03-04T00:00:00.000Z', 3],
    ]);
    const months = await report(`chatbotId=${botA.id}&from=2026-02-15&to=2026-03-31&granularity=month`);
    expect(months.series.map((p) => [p.start, p.conversations])).toEqual([
      ['2026-02-15T00:00:00.000Z', 0],
      ['2026-03-01T00:00:00.000Z', 5],
    ]);
    expect(months.totals.conversations).toBe(5);
  });

  it('covers every bot of the organization when no chatbot is named, and no other organization', async () => {
    const data = await report(MARCH);
    expect(data.chatbotId).toBeNull();
    expect(data.totals.conversations).toBe(6);
    expect(data.totals.answers).toBe(6);
    expect(data.totals.uniqueVisitors).toBe(5);
    expect(data.top.questions.map((q) => q.normalized)).not.toContain('secret question');
  });

  it('takes a date-time range at quarter-hour resolution and says what it covered', async () => {
    const data = await report(`chatbotId=${botA.id}&from=2026-03-01T09:04:00Z&to=2026-03-01T09:20:00Z`);
    expect([data.from, data.to]).toEqual(['2026-03-01T09:00:00.000Z', '2026-03-01T09:30:00.000Z']);
    expect(data.totals.visitorMessages).toBe(2);
    expect(data.totals.leads).toBe(1);
    // Top lists of a day covered in part come from its quarter hours.
    expect(data.top.questions).toEqual([
      { question: 'How do I reset my password?', normalized: 'how do i reset my password', count: 2 },
    ]);
    expect(data.top.unanswered).toEqual([
      { question: 'How do I reset my password??', normalized: 'how do i reset my password', count: 1 },
    ]);
  });

  it('follows later changes: feedback, a deleted conversation, a new chat turn', async () => {
    const before = await report(`chatbotId=${botA.id}&${MARCH}`);
    const answer = await t.app.models.Message.findOne({
      chatbotId: new Types.ObjectId(botA.id),
      role: 'assistant',
      confidence: 0.9,
    });
    expect((await org.api.post(`/api/v1/messages/${answer!._id.toString()}/feedback`, { rating: 'up' })).status).toBe(
      200,
    );
    const afterFeedback = await report(`chatbotId=${botA.id}&${MARCH}`);
    expect(afterFeedback.totals.feedback).toEqual({ up: before.totals.feedback.up + 1, down: 1 });

    expect((await org.api.delete(`/api/v1/conversations/${answer!.conversationId.toString()}`)).status).toBe(200);
    const afterDelete = await report(`chatbotId=${botA.id}&${MARCH}`);
    expect(afterDelete.totals.conversations).toBe(before.totals.conversations - 1);
    expect(afterDelete.totals.visitorMessages).toBe(before.totals.visitorMessages - 2);
    expect(afterDelete.totals.modelFailures).toBe(0);
    expect(afterDelete.top.sources).toEqual([{ ...RESET, count: 2 }]);

    const today = () => report(`chatbotId=${botA.id}&from=${new Date(Date.now() - 86_400_000).toISOString()}`);
    const quiet = await today();
    const chat = await org.api.post('/api/v1/chat', { chatbotId: botA.id, message: 'Where is my parcel?' });
    expect(chat.status).toBe(200);
    const busy = await today();
    expect(busy.totals.visitorMessages).toBe(quiet.totals.visitorMessages + 1);
    expect(busy.totals.answers).toBe(quiet.totals.answers + 1);
    expect(busy.totals.byChannel.api?.conversations).toBe((quiet.totals.byChannel.api?.conversations ?? 0) + 1);
    expect(busy.top.questions[0]).toMatchObject({ normalized: 'where is my parcel', count: 1 });

    const conversationId = (chat.body.data as { conversationId: string }).conversationId;
    const again = await org.api.post('/api/v1/chat', { chatbotId: botA.id, message: 'Thanks!', conversationId });
    expect(again.status).toBe(200);
    const later = await today();
    expect(later.totals.visitorMessages).toBe(busy.totals.visitorMessages + 1);
    expect(later.totals.conversations).toBe(busy.totals.conversations);

    // What the changes left in the rollups is what a rebuild from the records gives.
    const kept = await report(`chatbotId=${botA.id}&from=2026-03-01`);
    await t.app.models.AnalyticsBuild.deleteMany({});
    await t.app.models.AnalyticsDay.deleteMany({});
    await t.app.models.AnalyticsFact.deleteMany({});
    await t.app.services.rollups.backfill([botA.id]);
    expect(await report(`chatbotId=${botA.id}&from=2026-03-01`)).toEqual(kept);
  });

  it("drops a deleted bot's rollups", async () => {
    const bot = (await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Short-lived' })).body.data;
    const history = new HistoryBuilder(new Types.ObjectId(org.id), new Types.ObjectId(bot.id));
    history.conversation('2026-03-02T08:00:00Z', { channel: 'api' }).turn('2026-03-02T08:00:01Z', 'Hello', {});
    await history.insert(t.app.models);
    await t.app.services.rollups.backfill([bot.id]);
    expect((await report(`chatbotId=${bot.id}&${MARCH}`)).totals.answers).toBe(1);
    const stored = () => t.app.models.AnalyticsDay.countDocuments({ chatbotId: new Types.ObjectId(bot.id) });
    expect(await stored()).toBe(1);
    expect((await org.api.delete(`/api/v1/chatbots/${bot.id}`)).status).toBe(200);
    expect(await stored()).toBe(0);
  });

  it('needs the analytics:read scope, which admin implies', async () => {
    const reader = await t.clientWithScopes(org, ['analytics:read']);
    expect((await reader.get(`/api/v1/analytics?${MARCH}`)).status).toBe(200);
    const chatOnly = await t.clientWithScopes(org, ['chat', 'conversations:read']);
    const refused = await chatOnly.get(`/api/v1/analytics?${MARCH}`);
    expect(refused.status).toBe(403);
    expect(refused.body.error?.message).toContain('"analytics:read"');
  });

  it('refuses bad parameters naming them, and answers 404 for a bot of another organization', async () => {
    const refused = async (query: string) => {
      const res = await org.api.get(`/api/v1/analytics?${query}`);
      return {
        status: res.status,
        paths: (res.body.error?.details as { fields?: Array<{ path: string }> } | undefined)?.fields?.map(
          (f) => f.path,
        ),
      };
    };
    expect(await refused('granularity=hour')).toEqual({ status: 422, paths: ['granularity'] });
    expect(await refused('timezone=Mars%2FOlympus')).toEqual({ status: 422, paths: ['timezone'] });
    expect(await refused('from=yesterday')).toEqual({ status: 422, paths: ['from'] });
    expect(await refused('from=2026-02-30')).toEqual({ status: 422, paths: ['from'] });
    expect(await refused('from=2026-03-05&to=2026-03-01')).toEqual({ status: 422, paths: ['from'] });
    expect(await refused('from=2024-01-01&to=2026-01-01')).toEqual({ status: 422, paths: ['to'] });
    expect(await refused('bot=x')).toEqual({ status: 422, paths: ['bot'] });
    expect(await refused('top=0')).toEqual({ status: 422, paths: ['top'] });
    const elsewhere = await t.createOrg('Rival');
    const rivalBot = (await elsewhere.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Rival' })).body.data;
    expect((await refused(`chatbotId=${rivalBot.id}`)).status).toBe(404);
  });
});
