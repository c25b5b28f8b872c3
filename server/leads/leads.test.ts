import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeadDetail, LeadListItem } from '../../shared/schemas/leads.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { createConversation, createLeadBot, leadRequest, visitorOf } from './leads.fixtures.js';

describe('leads API', () => {
  let t: TestApp;
  let org: TestOrg;
  let other: TestOrg;

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('Shop');
    other = await t.createOrg('Competitor');
  });
  afterAll(() => t.stop());

  const submit = async (bot: { id: string }, overrides: Record<string, unknown> = {}, visitor = visitorOf(t, bot)) => {
    const res = await t.anonymous.post<{ leadId: string }>(
      '/api/v1/widget/leads',
      leadRequest(bot, visitor, overrides),
    );
    if (res.status !== 201) throw new Error(`lead not stored: ${JSON.stringify(res.body.error)}`);
    return res.body.data.leadId;
  };
  const list = (query = '') => org.api.get<LeadListItem[]>(`/api/v1/leads${query}`);

  it('lists leads newest first, paginated, each with its latest conversation and a link to it', async () => {
    const bot = await createLeadBot(org);
    const visitor = visitorOf(t, bot);
    const conversation = await createConversation(t, org, bot, visitor.visitorId, [
      { role: 'user', content: 'Do you ship to Norway?' },
      { role: 'assistant', content: 'Yes, in 3 days.' },
    ]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      ids.push(await submit(bot, { fields: { name: `Person ${i}`, email: `p${i}@list.example` } }, visitor));
    }
    const page = await list(`?chatbotId=${bot.id}&perPage=2`);
    expect(page.status).toBe(200);
    expect(page.body.meta).toEqual({ page: 1, perPage: 2, total: 3 });
    expect(page.body.data.map((l) => l.id)).toEqual([ids[2], ids[1]]);
    expect(page.body.data[0]?.conversation).toEqual({
      id: conversation._id.toString(),
      url: `/api/v1/conversations/${conversation._id.toString()}`,
      messageCount: 2,
      lastMessage: { preview: 'Yes, in 3 days.', at: expect.any(String) },
      createdAt: conversation.createdAt.toISOString(),
    });
    expect((await list(`?chatbotId=${bot.slug}&page=2&perPage=2`)).body.data.map((l) => l.id)).toEqual([ids[0]]);
  });

  it('filters by text in name, email or company, treating the text literally', async () => {
    const bot = await createLeadBot(org);
    await submit(bot, { fields: { name: 'Alan Turing', email: 'alan@bletchley.example', company: 'GC&CS' } });
    await submit(bot, { fields: { name: 'Ab Cd', email: 'abc@other.example' } });
    const q = async (text: string) =>
      (await list(`?chatbotId=${bot.id}&q=${encodeURIComponent(text)}`)).body.data.map((l) => l.name);
    expect(await q('TURING')).toEqual(['Alan Turing']);
    expect(await q('bletchley')).toEqual(['Alan Turing']);
    expect(await q('gc&cs')).toEqual(['Alan Turing']);
    expect(await q('a.c')).toEqual([]);
    expect(await q('.*')).toEqual([]);
  });

  it('filters by creation time', async () => {
    const bot = await createLeadBot(org);
    const old = await submit(bot, { fields: { name: 'Old', email: 'old@time.example' } });
    // Through the driver: mongoose keeps `createdAt` immutable.
    await t.app.models.Lead.collection.updateOne(
      { _id: new Types.ObjectId(old) },
      { $set: { createdAt: new Date('2020-01-01') } },
    );
    const recent = await submit(bot, { fields: { name: 'Recent', email: 'recent@time.example' } });
    const ids = async (query: string) => (await list(`?chatbotId=${bot.id}&${query}`)).body.data.map((l) => l.id);
    expect(await ids('from=2024-01-01')).toEqual([recent]);
    expect(await ids('to=2021-01-01T00:00:00Z')).toEqual([old]);
    expect((await list('?from=yesterday')).status).toBe(422);
    // Only ISO 8601: `new Date()` alone would read these as dates.
    expect((await list('?to=0.5')).status).toBe(422);
    expect((await list('?to=2024-13-01')).status).toBe(422);
  });

  it('when from or to names a day the month does not have, answers 422 naming the field', async () => {
    const refused = async (query: string) => {
      const res = await list(query);
      expect(res.status).toBe(422);
      expect(res.body.error?.name).toBe('ValidationError');
      return (res.body.error?.details as { fields: Array<{ path: string; message: string }> }).fields;
    };
    expect(await refused('?from=2026-02-30')).toEqual([
      { path: 'from', message: 'is not a real calendar date: 2026-02 has 28 days' },
    ]);
    expect(await refused('?to=2025-04-31T10:00:00Z')).toEqual([
      { path: 'to', message: 'is not a real calendar date: 2025-04 has 30 days' },
    ]);
    expect((await refused('?from=2026-02-29')).map((field) => field.path)).toEqual(['from']);
    // The last day of each month, leap days included, stays a date.
    expect((await list('?from=2024-02-29&to=2026-04-30T23:59:59Z')).status).toBe(200);
  });

  it('shows one lead with the transcripts of its conversations', async () => {
    const bot = await createLeadBot(org);
    const visitor = visitorOf(t, bot);
    const conversation = await createConversation(t, org, bot, visitor.visitorId, [
      { role: 'user', content: 'How much is the pro plan?' },
      { role: 'assistant', content: 'It is 20 EUR a month.' },
    ]);
    const leadId = await submit(bot, { conversationId: conversation._id.toString() }, visitor);
    const res = await org.api.get<LeadDetail>(`/api/v1/leads/${leadId}`);
    expect(res.status).toBe(200);
    expect(res.body.data.conversations).toHaveLength(1);
    expect(res.body.data.conversations[0]).toMatchObject({ id: conversation._id.toString(), leadId });
    expect(res.body.data.conversations[0]?.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'How much is the pro plan?'],
      ['assistant', 'It is 20 EUR a month.'],
    ]);
  });

  it('deletes a lead: the person is gone, and their conversation keeps no name or email', async () => {
    const bot = await createLeadBot(org);
    const visitor = visitorOf(t, bot);
    const conversation = await createConversation(t, org, bot, visitor.visitorId, [
      { role: 'user', content: 'Write to me at Erase.Me@example.com please' },
      { role: 'assistant', content: 'Sure, erase.me@example.com noted.' },
    ]);
    const leadId = await submit(bot, { fields: { name: 'Erase Me', email: 'erase.me@example.com' } }, visitor);
    const res = await org.api.delete(`/api/v1/leads/${leadId}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ id: leadId, deleted: true });
    expect((await org.api.get(`/api/v1/leads/${leadId}`)).status).toBe(404);
    expect(await t.app.models.Lead.countDocuments({ _id: new Types.ObjectId(leadId) })).toBe(0);
    const kept = await t.app.models.Conversation.findById(conversation._id);
    expect(kept?.leadId).toBeNull();
    expect(kept?.user).toMatchObject({ email: null, name: null });
    expect(kept?.lastMessagePreview).toBe('Sure, [removed] noted.');
    const messages = await t.app.models.Message.find({ conversationId: conversation._id }).sort({ createdAt: 1 });
    expect(messages.map((m) => m.content)).toEqual(['Write to me at [removed] please', 'Sure, [removed] noted.']);
    expect((await org.api.delete(`/api/v1/leads/${leadId}`)).status).toBe(404);
  });

  it("answers 404 for another organization's leads and bots, and never lists them", async () => {
    const bot = await createLeadBot(org);
    const leadId = await submit(bot, { fields: { name: 'Mine', email: 'mine@tenant.example' } });
    for (const res of [
      await other.api.get(`/api/v1/leads/${leadId}`),
      await other.api.delete(`/api/v1/leads/${leadId}`),
      await other.api.get(`/api/v1/leads?chatbotId=${bot.id}`),
      await other.api.get(`/api/v1/leads/export.csv?chatbotId=${bot.id}`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error?.name).toBe('NotFoundError');
    }
    const theirs = await other.api.get<LeadListItem[]>('/api/v1/leads?q=tenant.example');
    expect(theirs.body.data).toEqual([]);
    const csv = await fetch(`${t.url}/api/v1/leads/export.csv`, { headers: other.api.headers() });
    expect(await csv.text()).not.toContain('mine@tenant.example');
    expect((await org.api.get(`/api/v1/leads/${leadId}`)).status).toBe(200);
  });

  it('answers 404 for an id that is not a lead, and 422 for one that is not an id', async () => {
    expect((await org.api.get(`/api/v1/leads/${new Types.ObjectId().toString()}`)).status).toBe(404);
    expect((await org.api.get('/api/v1/leads/not-an-id')).status).toBe(422);
  });

  it('needs the leads:read scope to read', async () => {
    const chatOnly = await t.clientWithScopes(org, ['chat', 'conversations:read']);
    for (const res of [await chatOnly.get('/api/v1/leads'), await chatOnly.get('/api/v1/leads/export.csv')]) {
      expect(res.status).toBe(403);
      expect(res.body.error?.message).toContain('"leads:read"');
    }
    const reader = await t.clientWithScopes(org, ['leads:read']);
    expect((await reader.get('/api/v1/leads')).status).toBe(200);
  });

  it('when the key may only read leads, refuses erasure with 403 naming leads:write', async () => {
    const bot = await createLeadBot(org);
    const leadId = await submit(bot, { fields: { name: 'Kept', email: 'kept@scope.example' } });
    const reader = await t.clientWithScopes(org, ['leads:read']);
    const refused = await reader.delete(`/api/v1/leads/${leadId}`);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ name: 'ForbiddenError', details: { requiredScope: 'leads:write' } });
    expect(refused.body.error?.message).toContain('"leads:write"');
    expect((await reader.get(`/api/v1/leads/${leadId}`)).status).toBe(200);
    const eraser = await t.clientWithScopes(org, ['leads:write']);
    expect((await eraser.delete(`/api/v1/leads/${leadId}`)).status).toBe(200);
    expect((await reader.get(`/api/v1/leads/${leadId}`)).status).toBe(404);
  });
});
