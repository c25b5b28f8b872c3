import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook, WispError } from '../src/index.js';

const SECRET = `whsec_${Buffer.from('a test signing secret of 32 bytes').toString('base64')}`;
const BODY = JSON.stringify({ type: 'lead.created', data: { id: 'lead_1', email: 'ada@example.com' } });

describe('webhook signatures (Standard Webhooks)', () => {
  it('verifies a genuine delivery and answers its payload, from plain or Fetch headers', () => {
    const headers = signWebhook(SECRET, 'msg_1', new Date(), BODY);
    expect(verifyWebhook(BODY, headers, SECRET)).toEqual(JSON.parse(BODY));
    expect(verifyWebhook(new TextEncoder().encode(BODY), new Headers(headers), SECRET)).toEqual(JSON.parse(BODY));
  });

  it('refuses a changed body, another secret and an old timestamp with a WebhookVerificationError', () => {
    const headers = signWebhook(SECRET, 'msg_2', new Date(), BODY);
    const other = `whsec_${Buffer.from('another secret entirely, 32 byte').toString('base64')}`;
    const stale = signWebhook(SECRET, 'msg_3', new Date(Date.now() - 10 * 60_000), BODY);
    for (const attempt of [
      () => verifyWebhook(BODY.replace('ada', 'eve'), headers, SECRET),
      () => verifyWebhook(BODY, headers, other),
      () => verifyWebhook(BODY, stale, SECRET),
      () => verifyWebhook(BODY, { 'webhook-id': 'msg_4' }, SECRET),
    ]) {
      expect(attempt).toThrow(WispError);
      expect(attempt).toThrow(expect.objectContaining({ name: 'WebhookVerificationError' }));
    }
  });
});
