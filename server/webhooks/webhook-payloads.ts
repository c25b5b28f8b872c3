import { z } from 'zod';
import type { WebhookEventType } from '../../shared/schemas/webhooks.js';
import type { DomainEvents } from '../events/domain-events.js';

const context = {
  organizationId: z.string(),
  occurredAt: z.string().meta({ description: 'When it happened (ISO 8601)' }),
};
const channel = z.string().meta({ description: '`widget`, `api`, or a channel name' });
const citation = z.object({ sourceId: z.string(), title: z.string(), url: z.string().nullable() });
/** How one agent-loop execution ended (`agent_loop.completed` / `agent_loop.failed`). */
const agentLoopOutcome = z.object({
  ...context,
  chatbotId: z.string(),
  loopId: z.string(),
  executionId: z.string(),
  status: z
    .string()
    .meta({ description: '`completed`, `failed`, `step_limit`, `token_limit`, `timeout` or `interrupted`' }),
  output: z.string().nullable(),
  error: z.string().nullable(),
  steps: z.number().int(),
  durationMs: z.number(),
});

/**
 * The `data` of each webhook event, as documented in the OpenAPI `webhooks` section. Those named like a
 * domain event are that event's payload (checked below against the catalogue, so the two cannot drift).
 */
export const WEBHOOK_PAYLOADS = {
  'message.received': z.object({
    ...context,
    chatbotId: z.string(),
    conversationId: z.string(),
    messageId: z.string(),
    channel,
    text: z.string(),
    visitorId: z.string().nullable(),
  }),
  'answer.completed': z.object({
    ...context,
    chatbotId: z.string(),
    conversationId: z.string(),
    messageId: z.string(),
    questionMessageId: z.string(),
    channel,
    text: z.string(),
    confidence: z.number(),
    answered: z.boolean(),
    citations: z.array(citation),
    model: z.string().nullable(),
    usage: z.object({ promptTokens: z.number(), completionTokens: z.number() }),
    firstTokenMs: z.number().nullable(),
    durationMs: z.number(),
  }),
  'answer.failed': z.object({
    ...context,
    chatbotId: z.string(),
    conversationId: z.string(),
    messageId: z.string(),
    questionMessageId: z.string(),
    channel,
    reason: z.string(),
  }),
  'conversation.created': z.object({
    ...context,
    chatbotId: z.string(),
    conversationId: z.string(),
    channel,
    visitorId: z.string().nullable(),
    userSub: z.string().nullable(),
  }),
  'lead.created': z.object({
    ...context,
    chatbotId: z.string(),
    leadId: z.string(),
    conversationId: z.string().nullable(),
    fields: z.record(z.string(), z.string()),
    source: z.enum(['widget', 'api', 'chat']),
  }),
  'message.feedback': z.object({
    ...context,
    chatbotId: z.string(),
    conversationId: z.string(),
    messageId: z.string(),
    rating: z.enum(['up', 'down']).nullable(),
    comment: z.string().nullable(),
  }),
  'source.ready': z.object({
    ...context,
    chatbotId: z.string(),
    sourceId: z.string(),
    type: z.string(),
    title: z.string(),
    chunkCount: z.number().int(),
  }),
  'source.failed': z.object({
    ...context,
    chatbotId: z.string(),
    sourceId: z.string(),
    type: z.string(),
    title: z.string(),
    reason: z.string(),
  }),
  'integration.failed': z.object({
    ...context,
    chatbotId: z.string().nullable(),
    integrationId: z.string().nullable(),
    provider: z.string(),
    model: z.string(),
    reason: z.string(),
    attempts: z.number().int(),
  }),
  'quota.warning': z.object({
    ...context,
    quota: z.literal('messages'),
    period: z.string().meta({ description: 'The month, `YYYY-MM` (UTC)' }),
    used: z.number().int(),
    limit: z.number().int(),
    ratio: z.number(),
  }),
  'agent_loop.completed': agentLoopOutcome,
  'agent_loop.failed': agentLoopOutcome,
  'channel.disconnected': z.object({
    ...context,
    chatbotId: z.string(),
    channelId: z.string(),
    type: z.string().meta({ description: 'The platform: `telegram`, `slack`, `whatsapp` or `webhook`' }),
    reason: z.string(),
  }),
  'webhook.test': z.object({
    ...context,
    webhookId: z.string(),
    message: z.string(),
  }),
} satisfies Record<WebhookEventType, z.ZodType>;

/** What a receiver gets: the Standard Webhooks body shape, `type`, `timestamp` and the event's `data`. */
export function webhookBodySchema(type: WebhookEventType) {
  return z.object({
    type: z.literal(type),
    timestamp: z.string().meta({ description: 'When the event happened (ISO 8601)' }),
    data: WEBHOOK_PAYLOADS[type],
  });
}

// The catalogue is the contract: a payload here that differs from its domain event fails to compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Shared = Extract<keyof DomainEvents, WebhookEventType>;
const payloadsMatchCatalogue: { [K in Shared]: Same<z.infer<(typeof WEBHOOK_PAYLOADS)[K]>, DomainEvents[K]> } = {
  'message.received': true,
  'answer.completed': true,
  'answer.failed': true,
  'conversation.created': true,
  'lead.created': true,
  'message.feedback': true,
  'source.ready': true,
  'source.failed': true,
  'integration.failed': true,
  'quota.warning': true,
  'channel.disconnected': true,
  'agent_loop.completed': true,
  'agent_loop.failed': true,
};
void payloadsMatchCatalogue;
