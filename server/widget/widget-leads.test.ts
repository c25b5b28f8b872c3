import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { DomainEvents } from '../events/domain-events.js';
import type { LeadDetail, LeadListItem } from '../../shared/schemas/leads.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { createConversation, createLeadBot, leadRequest, visitorOf } from '../leads/leads.fixtures.js';

interface FieldIssues {
  fields: Array<{ path: string; message: string }>;
}

describe('lead capture from the widget', () => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('Shop');
  });
  afterAll(() => t.stop());

  const submit = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    t.anonymous.post<{ leadId: string }>('/api/v1/widget/leads', body, { 'user-agent': 'TestBrowser/1.0', ...headers });
  const leadsOf = async (bot: { id: string }) =>
    (await org.api.get<LeadListItem[]>(`/api/v1/leads?chatbotId=${bot.id}&perPage=100`)).body.data;

  it('stores the lead with page, referrer, user agent, locale and the time of consent', async () => {
    const bot = await createLeadBot(org);
    const visitor = visitorOf(t, bot);
    const before = Date.now();
    const res = await submit(
      leadRequest(bot, visitor, {
        fields: { name: ' Ada Lovelace ', email: 'Ada@Example.com', phone: '+44 20 7946 0958', budget: '10k' },
      }),
    );
    expect(res.status).toBe(201);
    const lead = (await org.api.get<LeadDetail>(`/api/v1/leads/${res.body.data.leadId}`)).body.data;
    expect(lead).toMatchObject({
      chatbotId: bot.id,
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      phone: '+44 20 7946 0958',
      company: null,
      custom: { budget: '10k' },
      consent: { given: true, text: 'I agree to be contacted about my question.' },
      pageUrl: 'https://shop.example/pricing',
      referrer: 'https://search.example/?q=shop',
      userAgent: 'TestBrowser/1.0',
      locale: 'en-GB',
      visitorId: visitor.visitorId,
    });
    expect(Date.parse(lead.consent.at ?? '')).toBeGreaterThanOrEqual(before - 1000);
  });

  it('dedupes by email: the same visitor sending again updates their lead and keeps what they did not repeat', async () => {
    const bot = await createLeadBot(org);
    const visitor = visitorOf(t, bot);
    const created: Array<DomainEvents['lead.created']> = [];
    const unsubscribe = t.app.services.events.subscribe('lead.created', (event) => {
      if (event.chatbotId === bot.id) created.push(event);
    });
    onTestFinished(unsubscribe);
    const first = await submit(
      leadRequest(bot, visitor, { fields: { name: 'Grace', email: 'grace@example.com', company: 'Navy' } }),
    );
    const second = await submit(
      leadRequest(bot, visitor, {
        fields: { name: 'Grace Hopper', email: 'GRACE@example.com' },
        pageUrl: 'https://shop.example/contact',
      }),
    );
    expect(second.body.data.leadId).toBe(first.body.data.leadId);
    const leads = await leadsOf(bot);
    expect(leads).toHaveLength(1);
    expect(leads[0]).toMatchObject({ name: 'Grace Hopper', company: 'Navy', pageUrl: 'https://shop.example/contact' });
    // Announced once, when the lead was first stored; the update is not a new lead.
    await t.app.services.events.settled();
    expect(created).toEqual([
      {
        organizationId: org.id,
        chatbotId: bot.id,
        leadId: first.body.data.leadId,
        conversationId: null,
        fields: { name: 'Grace', email: 'grace@example.com', company: 'Navy' },
        source: 'widget',
        occurredAt: expect.any(String),
      },
    ]);
  });

  it('never lets another visitor change a lead by giving its email: their answers become a linked lead of their own', async () => {
    const bot = await createLeadBot(org);
    const owner = visitorOf(t, bot);
    const first = await submit(
      leadRequest(bot, owner, { fields: { name: 'Grace', email: 'grace@owned.example', phone: '+44 20 7946 0958' } }),
    );
    const stranger = visitorOf(t, bot);
    const overwrite = await submit(
      leadRequest(bot, stranger, {
        fields: { name: 'Mallory', email: 'Grace@Owned.example', company: 'Evil Corp' },
        pageUrl: 'https://evil.example/',
      }),
    );
    // Answered like a first submission: a new id, nothing that tells the email was known.
    expect(overwrite.status).toBe(201);
    expect(Object.keys(overwrite.body.data)).toEqual(['leadId']);
    expect(overwrite.body.data.leadId).not.toBe(first.body.data.leadId);
    const kept = (await org.api.get<LeadDetail>(`/api/v1/leads/${first.body.data.leadId}`)).body.data;
    expect(kept).toMatchObject({
      name: 'Grace',
      phone: '+44 20 7946 0958',
      company: null,
      pageUrl: 'https://shop.example/pricing',
      visitorId: owner.visitorId,
      duplicateOf: null,
    });
    const claim = (await org.api.get<LeadDetail>(`/api/v1/leads/${overwrite.body.data.leadId}`)).body.data;
    expect(claim).toMatchObject({
      email: 'grace@owned.example',
      name: 'Mallory',
      company: 'Evil Corp',
      visitorId: stranger.visitorId,
      duplicateOf: first.body.data.leadId,
    });
    // The stranger sending again updates only their own copy.
    const again = await submit(leadRequest(bot, stranger, { fields: { name: 'M.', email: 'grace@owned.example' } }));
    expect(again.body.data.leadId).toBe(overwrite.body.data.leadId);
    expect((await leadsOf(bot)).map((l) => l.name).sort()).toEqual(['Grace', 'M.']);

    // Erasing the person also erases the copies others left under their email.
    expect((await org.api.delete(`/api/v1/leads/${first.body.data.leadId}`)).status).toBe(200);
    expect(await leadsOf(bot)).toEqual([]);
  });

  it('keeps one lead when the same visitor submits the same email many times at once', async () => {
    const bot = await createLeadBot(org);
    const visitor = visitorOf(t, bot);
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        submit(leadRequest(bot, visitor, { fields: { name: 'Race', email: 'race@example.com' } })),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(new Set(results.map((r) => r.body.data.leadId)).size).toBe(1);
    expect(await leadsOf(bot)).toHaveLength(1);
  });

  it('when many visitors give a new email at once, one lead holds it and every other answer is linked to it', async () => {
    const bot = await createLeadBot(org);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        submit(leadRequest(bot, visitorOf(t, bot), { fields: { name: `Racer ${i}`, email: 'rush@example.com' } })),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(201));
    const leads = await leadsOf(bot);
    expect(leads).toHaveLength(6);
    const firsts = leads.filter((l) => l.duplicateOf === null);
    expect(firsts).toHaveLength(1);
    expect(leads.filter((l) => l.duplicateOf === firsts[0]?.id)).toHaveLength(5);
  });

  it('keeps leads of different bots apart even with the same email', async () => {
    const [a, b] = [await createLeadBot(org), await createLeadBot(org)];
    const onA = await submit(leadRequest(a, visitorOf(t, a)));
    const onB = await submit(leadRequest(b, visitorOf(t, b)));
    expect(onA.body.data.leadId).not.toBe(onB.body.data.leadId);
  });

  it('without an email field, a visitor sending the form again updates their own lead', async () => {
    const bot = await createLeadBot(org, {
      leadCapture: { consentText: null, fields: [{ key: 'name', label: 'Name', type: 'name', required: true }] },
    });
    const visitor = visitorOf(t, bot);
    const first = await submit(leadRequest(bot, visitor, { fields: { name: 'First' }, consent: undefined }));
    const again = await submit(leadRequest(bot, visitor, { fields: { name: 'Second' } }));
    const stranger = await submit(leadRequest(bot, visitorOf(t, bot), { fields: { name: 'Stranger' } }));
    expect(again.body.data.leadId).toBe(first.body.data.leadId);
    expect(stranger.body.data.leadId).not.toBe(first.body.data.leadId);
    expect((await leadsOf(bot)).map((l) => l.name).sort()).toEqual(['Second', 'Stranger']);
  });

  it.each([
    ['a required field is missing', { fields: { email: 'x@example.com' } }, 'fields.name'],
    ['the email is not one', { fields: { name: 'X', email: 'not-an-email' } }, 'fields.email'],
    ['the phone is not one', { fields: { name: 'X', email: 'x@example.com', phone: 'call me' } }, 'fields.phone'],
    ['a field is not on the form', { fields: { name: 'X', email: 'x@example.com', age: '40' } }, 'fields.age'],
    ['the consent box is not ticked', { consent: false }, 'consent'],
    ['the name spans lines', { fields: { name: 'X\nY', email: 'x@example.com' } }, 'fields.name'],
    ['the locale is not one', { locale: 'english please' }, 'locale'],
    ['the body has an unknown key', { extra: true }, 'extra'],
  ])('when %s, answers 422 naming it and stores nothing', async (_case, overrides, path) => {
    const bot = await createLeadBot(org);
    const res = await submit(leadRequest(bot, visitorOf(t, bot), overrides));
    expect(res.status).toBe(422);
    expect(res.body.error?.name).toBe('ValidationError');
    expect((res.body.error?.details as FieldIssues).fields.map((f) => f.path)).toContain(path);
    expect(await leadsOf(bot)).toHaveLength(0);
  });

  it('answers 401 for a visitor token of another bot or a forged one', async () => {
    const [bot, otherBot] = [await createLeadBot(org), await createLeadBot(org)];
    for (const visitorToken of [visitorOf(t, otherBot).visitorToken, 'visitor-1.forged', 'garbage']) {
      const res = await submit(leadRequest(bot, { visitorToken }));
      expect(res.status).toBe(401);
      expect(res.body.error?.name).toBe('UnauthorizedError');
    }
    expect(await leadsOf(bot)).toHaveLength(0);
  });

  it('answers 403 when lead capture is off, and 404 for an unknown or disabled bot', async () => {
    const off = await createLeadBot(org, { leadCapture: { enabled: false } });
    expect((await submit(leadRequest(off, visitorOf(t, off)))).status).toBe(403);
    const disabled = await createLeadBot(org, { bot: { status: 'disabled' } });
    expect((await submit(leadRequest(disabled, visitorOf(t, disabled)))).status).toBe(404);
    const unknown = { id: new Types.ObjectId().toString() };
    expect((await submit(leadRequest(unknown, visitorOf(t, unknown)))).status).toBe(404);
  });

  it('refuses an origin the bot does not allow with 403, storing nothing, and grants an allowed one', async () => {
    const bot = await createLeadBot(org, { bot: { allowedOrigins: ['https://shop.example'] } });
    const refused = await submit(leadRequest(bot, visitorOf(t, bot)), { origin: 'https://evil.example' });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(await leadsOf(bot)).toHaveLength(0);
    expect((await submit(leadRequest(bot, visitorOf(t, bot)))).status).toBe(403);
    const allowed = await submit(leadRequest(bot, visitorOf(t, bot)), { origin: 'https://shop.example' });
    expect(allowed.status).toBe(201);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
  });

  it("links the visitor's conversation, which then carries the lead's name and email", async () => {
    const bot = await createLeadBot(org);
    const visitor = visitorOf(t, bot);
    const older = await createConversation(t, org, bot, visitor.visitorId);
    const named = await createConversation(t, org, bot, visitor.visitorId);
    const res = await submit(leadRequest(bot, visitor, { conversationId: older._id.toString() }));
    const latest = await createConversation(t, org, bot, visitor.visitorId);
    await submit(leadRequest(bot, visitor));
    const lead = (await org.api.get<LeadDetail>(`/api/v1/leads/${res.body.data.leadId}`)).body.data;
    expect(lead.conversationIds.sort()).toEqual([older._id.toString(), latest._id.toString()].sort());
    const stored = await t.app.models.Conversation.findById(older._id);
    expect(stored?.leadId?.toString()).toBe(lead.id);
    expect(stored?.user).toMatchObject({ email: 'ada@example.com', name: 'Ada Lovelace' });
    expect((await t.app.models.Conversation.findById(named._id))?.leadId).toBeNull();
  });

  it("answers 404 for another visitor's conversation", async () => {
    const bot = await createLeadBot(org);
    const someoneElse = await createConversation(t, org, bot, 'visitor-someone-else');
    const res = await submit(leadRequest(bot, visitorOf(t, bot), { conversationId: someoneElse._id.toString() }));
    expect(res.status).toBe(404);
    expect(await leadsOf(bot)).toHaveLength(0);
  });

  it('takes an email the visitor gave the bot in chat only when the owner enabled it', async () => {
    const asking = await createLeadBot(org, { leadCapture: { enabled: false, askEmailWhenUnanswered: true } });
    const silent = await createLeadBot(org, { leadCapture: { askEmailWhenUnanswered: false } });
    const inChat = (bot: { id: string }, fields: Record<string, string>) => ({
      organizationId: org.id,
      chatbotId: bot.id,
      visitorId: 'visitor-in-chat',
      fields,
      source: 'conversation' as const,
    });
    const { leadId } = await t.app.services.leads.submit(inChat(asking, { email: 'chat@example.com' }));
    expect((await org.api.get<LeadDetail>(`/api/v1/leads/${leadId}`)).body.data.email).toBe('chat@example.com');
    await expect(t.app.services.leads.submit(inChat(silent, { email: 'chat@example.com' }))).rejects.toMatchObject({
      name: 'ForbiddenError',
    });
    await expect(t.app.services.leads.submit(inChat(asking, { email: 'nope' }))).rejects.toMatchObject({
      name: 'ValidationError',
    });
  });
});
