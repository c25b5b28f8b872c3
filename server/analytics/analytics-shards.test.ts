import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsReport } from '../../shared/schemas/analytics.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { HistoryBuilder, rebuildRollupsFromRecords } from './analytics.fixtures.js';
import { AnalyticsRollups } from './analytics-rollups.js';

const QUESTIONS = ['How do I reset my password?', 'how do i reset my password', 'Do you ship to Norway?', 'Pricing?'];
const SOURCES = [
  { sourceId: 'src-reset', title: 'Reset guide', url: 'https://help.example/reset' },
  { sourceId: 'src-shipping', title: 'Shipping', url: null },
];

/** 48 conversations over two days (35 visitors: widget visitors returning, API sessions, anonymous calls), with gaps, sources, feedback. */
function history(organizationId: string, chatbotId: string): HistoryBuilder {
  const builder = new HistoryBuilder(new Types.ObjectId(organizationId), new Types.ObjectId(chatbotId));
  for (let i = 0; i < 48; i += 1) {
    const at = Date.parse('2026-03-01T08:00:00Z') + i * 47 * 60_000;
    const by =
      i % 5 === 0
        ? { channel: 'api' as const }
        : i % 3 === 0
          ? { channel: 'api' as const, sessionId: `s${i}` }
          : { channel: 'widget' as const, visitorId: `v${i % 13}` };
    const conversation = builder.conversation(new Date(at), by);
    for (let turn = 0; turn <= i % 3; turn += 1) {
      conversation.turn(new Date(at + 5_000 + turn * 90_000), QUESTIONS[(i + turn) % QUESTIONS.length]!, {
        status: i % 11 === 0 ? 'failed' : 'complete',
        error: i % 11 === 0 ? 'The model is unavailable' : null,
        confidence: ((i * 7 + turn) % 10) / 10,
        sources: i % 4 === 0 ? [] : [SOURCES[(i + turn) % SOURCES.length]!],
        promptTokens: 100 + i,
        completionTokens: 10 + turn,
        firstTokenMs: 40 + ((i * 37) % 900),
        feedback: i % 6 === 0 ? 'up' : i % 7 === 0 ? 'down' : null,
      });
    }
  }
  return builder;
}

/**
 * A bot's day is kept in shard documents (by the conversation's visitor), which add up to the day: the figures are
 * the same however many shards there are and however visitors fell into them, and a day stored whole before
 * shards existed still reads right, takes later changes, and is recomputed into shards.
 */
describe('analytics day shards', () => {
  let t: TestApp;
  let org: TestOrg;
  let botId: string;

  const get = async (query: string) => {
    const res = await org.api.get<AnalyticsReport>(`/api/v1/analytics?chatbotId=${botId}&top=50&${query}`);
    if (res.status !== 200) throw new Error(`analytics answered ${res.status}: ${JSON.stringify(res.body.error)}`);
    return res.body.data;
  };
  /** Whole days, part of a day (per-quarter top lists) and weeks in a half-hour time zone. */
  const reports = async () => ({
    days: await get('from=2026-03-01&to=2026-03-02'),
    part: await get('from=2026-03-01T09:30:00Z&to=2026-03-01T17:45:00Z&timezone=UTC'),
    weeks: await get('from=2026-02-25&to=2026-03-04&granularity=week&timezone=Asia%2FKolkata'),
  });
  const dayDocs = () =>
    t.app.models.AnalyticsDay.find({ chatbotId: new Types.ObjectId(botId) }, 'key')
      .lean()
      .then((docs) => docs.map((doc) => doc.key).sort());
  /** Drops the rollups and rolls the records up again, written to `dayShards` shards per day. */
  const rebuildWith = async (dayShards: number) => {
    const { models, services } = t.app;
    await Promise.all([
      models.AnalyticsDay.deleteMany({}),
      models.AnalyticsFact.deleteMany({}),
      models.AnalyticsBuild.deleteMany({}),
      models.AnalyticsMark.deleteMany({}),
    ]);
    const rollups = new AnalyticsRollups(
      models,
      {
        conversationsByIds: (ids) => services.conversations.conversationRecords(ids),
        messagesByIds: (ids) => services.conversations.messageRecords(ids),
        recordsOfBot: (chatbotId, created) => services.conversations.recordsOfBot(chatbotId, created),
        recordsUpdatedBetween: (from, to) => services.conversations.recordsUpdatedBetween(from, to),
      },
      { leaseMs: t.config.ANALYTICS_RECONCILE_LEASE_MS, pollMs: t.config.ANALYTICS_RECONCILE_POLL_MS, dayShards },
      { info: () => undefined, error: () => undefined },
      () => services.chatbots.botsOf(),
    );
    await rollups.backfill([botId]);
  };

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('Shards');
    botId = (await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Support' })).body.data.id;
    await t.app.services.rollups.idle();
    await history(org.id, botId).insert(t.app.models);
  });
  afterAll(() => t.stop());

  it('gives the same figures whatever the shard count and however visitors fell into shards', async () => {
    await rebuildRollupsFromRecords(t.app, [botId]);
    const sharded = await reports();
    expect(sharded.days.totals).toMatchObject({ conversations: 48, uniqueVisitors: 35 });
    expect((await dayDocs()).length).toBeGreaterThan(10);

    await rebuildWith(1);
    expect(await dayDocs()).toEqual([`${botId}:2026-03-01:0`, `${botId}:2026-03-02:0`]);
    expect(await reports()).toEqual(sharded);

    await rebuildWith(3);
    expect((await dayDocs()).length).toBe(6);
    expect(await reports()).toEqual(sharded);
  });

  it('reads a day stored whole before shards, applies later changes to it, and recomputes it into shards', async () => {
    const { models, services } = t.app;
    const day1 = `${botId}:2026-03-01`;
    const day2 = `${botId}:2026-03-02`;
    await rebuildRollupsFromRecords(t.app, [botId]);
    const expected = await reports();
    // What was stored before shards: one document per day (all in one shard, its key without the shard), and
    // facts whose entries name no shard.
    await rebuildWith(1);
    for (const doc of await models.AnalyticsDay.find({}, 'key').lean()) {
      await models.AnalyticsDay.updateOne({ _id: doc._id }, { $set: { key: doc.key.replace(/:0$/, '') } });
    }
    for (const fact of await models.AnalyticsFact.find({}).lean()) {
      const $unset = Object.fromEntries(Object.keys(fact.e as object).map((entry) => [`e.${entry}.k`, '']));
      await models.AnalyticsFact.collection.updateOne({ _id: fact._id }, { $unset });
    }
    expect(await dayDocs()).toEqual([day1, day2]);
    expect(await reports()).toEqual(expected);

    // Feedback on an answer and a deleted conversation: taken from the whole day, added to a shard.
    const answer = await models.Message.findOne({
      chatbotId: new Types.ObjectId(botId),
      role: 'assistant',
      status: 'complete',
      'feedback.rating': null,
    });
    expect((await org.api.post(`/api/v1/messages/${answer!._id.toString()}/feedback`, { rating: 'up' })).status).toBe(
      200,
    );
    // The latest: a deleted conversation leaves its wordings, which a recomputation drops, sharded or not.
    const doomed = await models.Conversation.findOne({
      chatbotId: new Types.ObjectId(botId),
      _id: { $ne: answer!.conversationId },
    }).sort({ createdAt: -1 });
    expect((await org.api.delete(`/api/v1/conversations/${doomed!._id.toString()}`)).status).toBe(200);
    await services.rollups.settled();
    const changed = await reports();
    expect(changed.days.totals.feedback.up).toBe(expected.days.totals.feedback.up + 1);
    expect(changed.days.totals.conversations).toBe(47);
    expect(await dayDocs()).toEqual(expect.arrayContaining([day1, day2]));
    expect((await dayDocs()).length).toBeGreaterThan(2);

    // The reconciliation recomputes a flagged day into shards; the whole document goes.
    await models.AnalyticsMark.collection.updateOne(
      { key: day1 },
      {
        $set: { pending: 1, touchedAt: new Date(Date.now() - 2 * t.config.ANALYTICS_RECONCILE_LEASE_MS) },
        $setOnInsert: {
          chatbotId: new Types.ObjectId(botId),
          organizationId: new Types.ObjectId(org.id),
          day: new Date('2026-03-01T00:00:00Z'),
        },
      },
      { upsert: true },
    );
    expect(await services.rollups.reconcile()).toBe(1);
    expect(await dayDocs()).not.toContain(day1);
    expect(await reports()).toEqual(changed);
    await rebuildRollupsFromRecords(t.app, [botId]);
    expect(await reports()).toEqual(changed);
  });
});
