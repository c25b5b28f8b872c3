import { createHmac, timingSafeEqual } from 'node:crypto';
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

/** Standard Webhooks (standardwebhooks.com): `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the secret's bytes. */
export const standardWebhooks = {
  sign(secret: string, id: string, timestamp: string, body: string | Buffer): string {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    return `v1,${hmac(key, Buffer.concat([Buffer.from(`${id}.${timestamp}.`), Buffer.from(body)]), 'base64')}`;
  },
  /** Throws unless one of the space-separated signatures matches. */
  verify(secret: string, headers: Record<string, string | string[] | undefined>, body: Buffer): string {
    const id = header(headers, 'webhook-id');
    const signatures = header(headers, 'webhook-signature');
    if (!id || !signatures) throw badSignature('The webhook-id and webhook-signature headers are required');
    const timestamp = checkTimestamp(header(headers, 'webhook-timestamp'), 'webhook-timestamp');
    const expected = standardWebhooks.sign(secret, id, timestamp, body);
    if (!signatures.split(' ').some((candidate) => safeEqual(candidate, expected)))
      throw badSignature('The webhook-signature does not match: sign with the channel secret (Standard Webhooks)');
    return id;
  },
};
