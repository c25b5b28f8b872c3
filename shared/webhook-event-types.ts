/**
 * Every event a webhook endpoint can subscribe to. Most are the domain events of the same name; the
 * `agent_loop.*` and `channel.*` ones are emitted by the capabilities that run agent loops and channels,
 * and `webhook.test` by `POST /api/v1/webhooks/:id/test`. Kept free of zod, so the owner console can
 * list the events without bundling the schemas.
 */
export const WEBHOOK_EVENT_TYPES = [
  'message.received',
  'answer.completed',
  'answer.failed',
  'conversation.created',
  'lead.created',
  'message.feedback',
  'source.ready',
  'source.failed',
  'integration.failed',
  'quota.warning',
  'agent_loop.completed',
  'agent_loop.failed',
  'channel.disconnected',
  'webhook.test',
] as const;

/** One event type of {@link WEBHOOK_EVENT_TYPES}. */
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
