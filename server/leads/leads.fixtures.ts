import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import type { ChatbotDto } from '../../shared/schemas/chatbots.js';
import type { TestApp, TestOrg } from '../test/test-app.js';

/** The lead form most tests use: name and email required, the rest optional, with a consent text. */
const STANDARD_FORM = {
  enabled: true,
  trigger: 'before_first_message',
  consentText: 'I agree to be contacted about my question.',
  fields: [
    { key: 'name', label: 'Name', type: 'name', required: true },
    { key: 'email', label: 'Email', type: 'email', required: true },
    { key: 'phone', label: 'Phone', type: 'phone', required: false },
    { key: 'company', label: 'Company', type: 'company', required: false },
    { key: 'budget', label: 'Budget', type: 'text', required: false },
  ],
};

/** A bot of `org` whose widget collects leads with `STANDARD_FORM`, merged with `leadCapture`. */
export async function createLeadBot(
  org: TestOrg,
  options: { bot?: Record<string, unknown>; leadCapture?: Record<string, unknown> } = {},
): Promise<ChatbotDto> {
  const bot = (
    await org.api.post<ChatbotDto>('/api/v1/chatbots', { name: `Leads ${randomUUID().slice(0, 8)}`, ...options.bot })
  ).body.data;
  const res = await org.api.patch(`/api/v1/chatbots/${bot.id}/widget-settings`, {
    leadCapture: { ...STANDARD_FORM, ...options.leadCapture },
  });
  if (res.status !== 200) throw new Error(`lead form not saved: ${JSON.stringify(res.body.error)}`);
  return bot;
}

/** A widget visitor of `bot`: their id and the token the socket would have issued them. */
export function visitorOf(t: TestApp, bot: { id: string }, visitorId = `visitor-${randomUUID()}`) {
  return { visitorId, visitorToken: t.app.services.visitorTokens.issue(bot.id, visitorId) };
}

/** A body for `POST /api/v1/widget/leads` that passes `STANDARD_FORM`. */
export function leadRequest(
  bot: { id: string },
  visitor: { visitorToken: string },
  overrides: Record<string, unknown> = {},
) {
  return {
    bot: bot.id,
    visitorToken: visitor.visitorToken,
    fields: { name: 'Ada Lovelace', email: 'ada@example.com' },
    consent: true,
    pageUrl: 'https://shop.example/pricing',
    referrer: 'https://search.example/?q=shop',
    locale: 'en-GB',
    ...overrides,
  };
}

/** A widget conversation of the visitor, as the chat engine stores it, with optional messages. */
export async function createConversation(
  t: TestApp,
  org: TestOrg,
  bot: { id: string },
  visitorId: string,
  messages: Array<{ role: 'user' | 'assistant'; content: string }> = [],
) {
  const models = t.app.models;
  const conversation = await models.Conversation.create({
    organizationId: new Types.ObjectId(org.id),
    chatbotId: new Types.ObjectId(bot.id),
    channel: 'widget',
    sessionKey: `auto:${randomUUID()}`,
    visitorId,
    messageCount: messages.length,
    lastMessageAt: messages.length > 0 ? new Date() : null,
    lastMessagePreview: messages.at(-1)?.content.slice(0, 200) ?? '',
  });
  let at = Date.now() - messages.length * 1000;
  for (const message of messages) {
    at += 1000;
    await models.Message.create({
      organizationId: conversation.organizationId,
      chatbotId: conversation.chatbotId,
      conversationId: conversation._id,
      role: message.role,
      content: message.content,
      status: 'complete',
      clientMessageId: randomUUID(),
      createdAt: new Date(at),
    });
  }
  return conversation;
}
