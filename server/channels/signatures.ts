import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { AppError } from '../errors/app-error.js';

/** How old a signed delivery may be (Slack's and Standard Webhooks' window): older ones are replays. */
export const REPLAY_WINDOW_S = 5 * 60;

export function hmac(key: string | Buffer, payload: string | Buffer, encoding: 'hex' | 'base64'): string {
  return createHmac('sha256', key).update(payload).digest(encoding);
}

/** Compares two strings in constant time (for signatures and secrets). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The refusal of a delivery whose signature or secret does not match: nothing of it is stored. */
export function badSignature(message: string): AppError {
  return new AppError('UnauthorizedError', { message });
}

/** Refuses a signed timestamp (seconds) outside the replay window. */
export function checkTimestamp(header: string | undefined, name: string): string {
  const seconds = Number(header);
  if (!header || !Number.isInteger(seconds)) throw badSignature(`The ${name} header is missing`);
  if (Math.abs(Date.now() / 1000 - seconds) > REPLAY_WINDOW_S)
    throw badSignature(
      `The ${name} is more than ${REPLAY_WINDOW_S / 60} minutes away from now: a replay or a wrong clock`,
    );
  return header;
}

export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Standard Webhooks (standardwebhooks.com), through its reference library: `webhook-id`, `webhook-timestamp`, `webhook-signature`. */
export const standardWebhooks = {
  /** The `webhook-signature` value for a body sent with this id and timestamp (seconds). */
  sign(secret: string, id: string, timestamp: string, body: string | Buffer): string {
    return new Webhook(secret).sign(id, new Date(Number(timestamp) * 1000), body);
  },
  /** Throws unless the signature matches and the timestamp is within five minutes; returns the `webhook-id`. */
  verify(secret: string, headers: Record<string, string | string[] | undefined>, body: Buffer): string {
    const id = header(headers, 'webhook-id');
    const required = {
      'webhook-id': id ?? '',
      'webhook-timestamp': header(headers, 'webhook-timestamp') ?? '',
      'webhook-signature': header(headers, 'webhook-signature') ?? '',
    };
    if (!id || !required['webhook-timestamp'] || !required['webhook-signature'])
      throw badSignature('The webhook-id, webhook-timestamp and webhook-signature headers are required');
    try {
      new Webhook(secret).verify(body, required, { jsonParse: false });
    } catch (error) {
      const reason = error instanceof WebhookVerificationError ? error.message : 'unreadable signature';
      throw badSignature(
        `The Standard Webhooks signature does not verify (${reason}): sign with the channel secret within ${REPLAY_WINDOW_S / 60} minutes of sending`,
      );
    }
    return id;
  },
};
