import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { WispError } from './errors.js';

/** The headers of a Standard Webhooks delivery (`webhook-id`, `webhook-timestamp`, `webhook-signature`). */
export type WebhookHeaders = Record<string, string | string[] | undefined> | Headers;

function plainHeaders(headers: WebhookHeaders): Record<string, string> {
  if (typeof Headers !== 'undefined' && headers instanceof Headers) return Object.fromEntries(headers.entries());
  const plain: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) plain[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return plain;
}

/**
 * Checks a webhook delivery's signature (Standard Webhooks: HMAC-SHA256 over `id.timestamp.body`, the
 * timestamp within 5 minutes) and answers its parsed JSON payload. `secret` is the endpoint's signing
 * secret (`whsec_…`); `body` must be the raw request body, byte for byte. Throws a `WispError` named
 * `WebhookVerificationError` when the delivery is not genuine.
 */
export function verifyWebhook<T = unknown>(body: string | Uint8Array, headers: WebhookHeaders, secret: string): T {
  const payload = typeof body === 'string' ? body : new TextDecoder().decode(body);
  try {
    return new Webhook(secret).verify(payload, plainHeaders(headers)) as T;
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    throw new WispError({ name: 'WebhookVerificationError', message: error.message, cause: error });
  }
}

/** Signs a payload as a Wisp server does: for tests of your own webhook endpoint. */
export function signWebhook(secret: string, id: string, timestamp: Date, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, timestamp, body),
  };
}
