import { afterAll, beforeAll, expect } from 'vitest';
import { waitUntilGone } from '../../server/test/server-process.js';
import { WebhookReceiver } from '../../server/test/webhook-receiver.js';
import { UNLIMITED_RATE_ENV } from '../../server/test/unlimited-limits.js';
import { WispServer } from './wisp-server.js';

/** What a webhook fault test drives: a receiver on this machine and a Wisp server allowed to deliver to it. */
export interface WebhookFault {
  receiver: WebhookReceiver;
  wisp: WispServer;
}

/**
 * Starts a webhook receiver before the file's tests and makes a Wisp server (not started) that may
 * deliver to it, polls its outbox every 100 ms and lifts its request limits, with `env` on top; both are ended after the tests.
 */
export function setupWebhookFault(env: Record<string, string>): WebhookFault {
  const fault = {} as WebhookFault;
  beforeAll(async () => {
    fault.receiver = await WebhookReceiver.start();
    // Request limits lifted: the tests poll the API while they wait for a state.
    fault.wisp = new WispServer({
      ...UNLIMITED_RATE_ENV,
      URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1',
      WEBHOOK_POLL_MS: '100',
      ...env,
    });
  });
  afterAll(async () => {
    await fault.wisp.dispose();
    await fault.receiver.stop();
  });
  return fault;
}

/** Subscribes the receiver to `events` and gives it the signing secret; returns the webhook's id. */
export async function subscribeReceiver({ wisp, receiver }: WebhookFault, events: string[]): Promise<string> {
  const created = await wisp.api.post<{ id: string; secret: string }>('/api/v1/webhooks', {
    url: receiver.url,
    events,
  });
  expect(created.status).toBe(201);
  receiver.useSecret(created.body.data.secret);
  return created.body.data.id;
}

/** After the server was killed: waits until it and its database (`databasePid`) are gone, then starts it again. */
export async function restartAfterKill(wisp: WispServer, databasePid: number): Promise<void> {
  await wisp.process!.exited;
  await waitUntilGone(databasePid, 10_000);
  await wisp.start();
}
