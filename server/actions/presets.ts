import { z } from 'zod';
import type { CreateActionInput } from '../../shared/schemas/actions.js';

const baseUrl = z
  .string()
  .max(300)
  .regex(/^[Hh][Tt][Tt][Pp][Ss]?:[/][/][^/?#{}]+$/, { message: 'must be a scheme and host, without a path' });
const secret = z
  .string()
  .min(1)
  .max(500)
  .regex(/^[\x21-\x7e]+$/);

/** Body of `POST /api/v1/chatbots/:id/actions/presets`: a vendor action filled from a few fields. */
export const actionPresetSchema = z.discriminatedUnion('preset', [
  z.strictObject({
    preset: z.literal('shopify_order_status'),
    /** `https://<shop>.myshopify.com` */
    baseUrl,
    accessToken: secret,
    apiVersion: z
      .string()
      .regex(/^\d{4}-\d{2}$/)
      .default('2024-10'),
  }),
  z.strictObject({
    preset: z.literal('stripe_subscription_status'),
    baseUrl: baseUrl.default('https://api.stripe.com'),
    secretKey: secret,
  }),
  z.strictObject({
    preset: z.literal('calendly_scheduling_link'),
    baseUrl: baseUrl.default('https://api.calendly.com'),
    accessToken: secret,
    /** The event type's URI, e.g. https://api.calendly.com/event_types/AAAA */
    eventType: z.string().url().max(300),
  }),
]);

export type ActionPreset = z.infer<typeof actionPresetSchema>;

const defaults = { timeoutMs: 10_000, maxResponseBytes: 262_144 } as const;

/**
 * The three connected systems the product names, as ordinary actions following each vendor's public API:
 * the result is saved and checked like any other action.
 */
export function actionFromPreset(preset: ActionPreset): CreateActionInput {
  switch (preset.preset) {
    case 'shopify_order_status':
      // Admin REST API: orders by name, only the identified customer's (their email), any status.
      return {
        ...defaults,
        name: 'shopify_order_status',
        description: 'Looks up the status of one of the signed-in customer’s orders by its order number.',
        parameters: {
          type: 'object',
          properties: { orderNumber: { type: 'string', pattern: '^[0-9]{1,12}$', description: 'e.g. 1001' } },
          required: ['orderNumber'],
          additionalProperties: false,
        },
        request: {
          method: 'GET',
          url: `${preset.baseUrl}/admin/api/${preset.apiVersion}/orders.json`,
          headers: {},
          query: { name: '#{params.orderNumber}', email: '{user.email}', status: 'any', limit: '1' },
        },
        auth: { type: 'header', name: 'X-Shopify-Access-Token', value: preset.accessToken },
        requiresUser: true,
        requiresConfirmation: false,
        responseFields: [
          'orders.0.name',
          'orders.0.financial_status',
          'orders.0.fulfillment_status',
          'orders.0.order_status_url',
        ],
      };
    case 'stripe_subscription_status':
      // The identified visitor's `sub` is their Stripe customer id.
      return {
        ...defaults,
        name: 'stripe_subscription_status',
        description: 'Tells the signed-in customer the status of their subscription.',
        parameters: { type: 'object', properties: {}, additionalProperties: false },
        request: {
          method: 'GET',
          url: `${preset.baseUrl}/v1/subscriptions`,
          headers: {},
          query: { customer: '{user.sub}', status: 'all', limit: '1' },
        },
        auth: { type: 'bearer', token: preset.secretKey },
        requiresUser: true,
        requiresConfirmation: false,
        responseFields: ['data.0.status', 'data.0.current_period_end', 'data.0.cancel_at_period_end'],
      };
    case 'calendly_scheduling_link':
      // A single-use booking link for one event type.
      return {
        ...defaults,
        name: 'calendly_scheduling_link',
        description: 'Creates a link where the visitor can book a meeting.',
        parameters: { type: 'object', properties: {}, additionalProperties: false },
        request: {
          method: 'POST',
          url: `${preset.baseUrl}/scheduling_links`,
          headers: {},
          query: {},
          body: { max_event_count: 1, owner: preset.eventType, owner_type: 'EventType' },
        },
        auth: { type: 'bearer', token: preset.accessToken },
        requiresUser: false,
        requiresConfirmation: false,
        responseFields: ['resource.booking_url'],
      };
  }
}
