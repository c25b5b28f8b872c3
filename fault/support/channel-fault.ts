import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { ApiResponse } from '../../server/test/api-client.js';
import { standardWebhooks } from '../../server/channels/signatures.js';
import type { PlatformCall, PlatformFakes } from '../../server/channels/test/platform-fakes.js';
import type { WispServer } from './wisp-server.js';

/** A webhook channel of a bot, driven as its platform would: signed deliveries in, replies to the fake callback. */
export interface WebhookChannel {
  /** Delivers `payload` to the channel's inbound URL, signed (Standard Webhooks) with the channel's secret. */
  deliver(payload: Record<string, unknown>): Promise<ApiResponse>;
  /** Every reply the channel sent to the callback so far. */
  callbacks(): PlatformCall[];
  /** The replies that carry an action's follow-up (its tool result). */
  followUps(): PlatformCall[];
}

/**
 * Adds a webhook channel to the bot that replies to the fakes' callback receiver. Deliveries go to the server at
 * its address of the moment, so the channel keeps working after a restart.
 */
export async function addWebhookChannel(
  wisp: WispServer,
  chatbotId: string,
  fakes: PlatformFakes,
): Promise<WebhookChannel> {
  const channel = await wisp.api.post<{ id: string; signingSecret: string }>(`/api/v1/chatbots/${chatbotId}/channels`, {
    type: 'webhook',
    callbackUrl: fakes.callbackUrl,
  });
  expect(channel.status).toBe(201);
  const { id: channelId, signingSecret } = channel.body.data;
  const callbacks = () => fakes.callsOf('callback');
  return {
    deliver: (payload) => {
      const body = JSON.stringify(payload);
      const id = `msg_${randomUUID()}`;
      const timestamp = String(Math.floor(Date.now() / 1000));
      return wisp.api.request('POST', `/api/v1/channels/${channelId}/events`, body, {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': standardWebhooks.sign(signingSecret, id, timestamp, body),
      });
    },
    callbacks,
    followUps: () => callbacks().filter((call) => String(call.body.text).includes('Tool result:')),
  };
}
