import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeadDetail } from '../../shared/schemas/leads.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { connectWidget, type WidgetClient } from '../test/widget-client.js';
import { createLeadBot, leadRequest, visitorOf } from './leads.fixtures.js';

describe('a lead given before the first message', () => {
  let t: TestApp;
  let org: TestOrg;
  let socket: WidgetClient | null = null;

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('Early leads');
  });
  afterAll(async () => {
    socket?.disconnect();
    await t.stop();
  });

  it('is linked to the conversation the visitor starts next', async () => {
    const bot = await createLeadBot(org, { leadCapture: { trigger: 'before_first_message' } });
    const visitor = visitorOf(t, bot);
    const submitted = await t.anonymous.post<{ leadId: string }>('/api/v1/widget/leads', leadRequest(bot, visitor));
    expect(submitted.status).toBe(201);

    const { socket: client } = await connectWidget(t.url, {
      bot: bot.id,
      visitorId: visitor.visitorId,
      visitorToken: visitor.visitorToken,
    });
    socket = client;
    const done = new Promise<void>((resolve) => client.once('chat:done', () => resolve()));
    const ack = await client.emitWithAck('chat:send', { text: 'Hello after the form', clientMessageId: randomUUID() });
    expect(ack.error).toBeUndefined();
    await done;

    // Linked by the leads capability when the conversation is announced, beside the turn.
    await t.app.services.events.settled();
    const lead = (await org.api.get<LeadDetail>(`/api/v1/leads/${submitted.body.data.leadId}`)).body.data;
    expect(JSON.stringify(lead)).toContain(ack.data!.conversationId);
    const conversation = await org.api.get<{ leadId: string | null }>(
      `/api/v1/conversations/${ack.data!.conversationId}`,
    );
    expect(conversation.body.data.leadId).toBe(submitted.body.data.leadId);
  });
});
