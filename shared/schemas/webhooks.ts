import { z } from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../webhook-event-types.js';
import { objectIdSchema, paginationQuerySchema } from './common.js';

export { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../webhook-event-types.js';

const webhookUrlSchema = z
  .string()
  .max(2_000)
  .url({ message: 'must be a URL' })
  .refine((value) => /^https?:\/\//i.test(value), { message: 'must be an http(s) URL' });

/** `["*"]` for every event, or a list of event types. */
const subscribedEventsSchema = z
  .array(z.enum([...WEBHOOK_EVENT_TYPES, '*']))
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length + 1)
  .refine((events) => !events.includes('*') || events.length === 1, {
    message: 'use ["*"] alone for every event, or list the events',
  })
  .transform((events) => [...new Set(events)]);

/** Body of `POST /api/v1/webhooks`. */
export const createWebhookSchema = z.strictObject({
  url: webhookUrlSchema,
  events: subscribedEventsSchema,
  description: z.string().trim().max(500).default(''),
  enabled: z.boolean().default(true),
  /** Only this bot's events; org-wide events (`quota.warning`, ...) are then not sent. */
  chatbotId: objectIdSchema.nullable().default(null),
});

/** Body of `PATCH /api/v1/webhooks/:id`. */
export const updateWebhookSchema = z.strictObject({
  url: webhookUrlSchema.optional(),
  events: subscribedEventsSchema.optional(),
  description: z.string().trim().max(500).optional(),
  enabled: z.boolean().optional(),
  chatbotId: objectIdSchema.nullable().optional(),
});

/** A webhook endpoint as returned: the signing secret only at creation and rotation. */
export const webhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string(),
  enabled: z.boolean(),
  chatbotId: z.string().nullable(),
  /** Why the server disabled the endpoint (410 Gone, or failing for days); null when enabled or disabled by hand. */
  disabledReason: z.string().nullable(),
  /** Since when every delivery has failed; null while deliveries succeed. */
  failingSince: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** A webhook at creation or secret rotation: the only time `secret` (`whsec_...`) is shown. */
export const webhookWithSecretSchema = webhookSchema.extend({
  secret: z.string().meta({ description: 'The signing secret (`whsec_...`), shown only now' }),
});

/** One event's delivery to one endpoint. */
export const webhookDeliverySchema = z.object({
  id: z.string(),
  /** The `webhook-id` header: the same on every attempt and redelivery, so receivers can deduplicate. */
  messageId: z.string(),
  eventType: z.string(),
  status: z.enum(['queued', 'running', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastStatusCode: z.number().int().nullable(),
  lastLatencyMs: z.number().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
});

/** Query of `GET /api/v1/webhooks/:id/deliveries`. */
export const listDeliveriesQuerySchema = paginationQuerySchema.extend({
  status: z.enum(['queued', 'running', 'delivered', 'failed']).optional(),
});

export type CreateWebhookInput = z.output<typeof createWebhookSchema>;
export type UpdateWebhookInput = z.output<typeof updateWebhookSchema>;
export type WebhookDto = z.infer<typeof webhookSchema>;
export type WebhookDeliveryDto = z.infer<typeof webhookDeliverySchema>;
