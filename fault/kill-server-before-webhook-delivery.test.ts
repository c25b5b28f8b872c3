import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntilGone } from '../server/test/server-process.js';
import { WebhookReceiver } from '../server/test/webhook-receiver.js';
import { waitFor, WispServer } from './support/wisp-server.js';

interface Delivery {
  messageId: string;
  status: string;
  attempts: number;
}

describe('kill -9 of the server between a webhook event and its delivery', () => {
  let receiver: WebhookReceiver;
  let wisp: WispServer;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    wisp = new WispServer({
      URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1',
      // A killed attempt's lease runs out soon after the restart; a failed attempt is retried 2 s later.
      WEBHOOK_LEASE_MS: '2000',
      WEBHOOK_RETRY_SCHEDULE_MS: '2000',
      WEBHOOK_POLL_MS: '100',
    });
  });
  afterAll(async () => {
    await wisp.dispose();
    await receiver.stop();
  });

  it('delivers after the restart both the event whose attempt was cut and the one waiting for its retry', async () => {
    await wisp.start();
    const created = await wisp.api.post<{ id: string; secret: string }>('/api/v1/webhooks', {
      url: receiver.url,
      events: ['*'],
    });
    expect(created.status).toBe(201);
    receiver.useSecret(created.body.data.secret);
    const hook = created.body.data.id;
    const firstTry = new Map<string, 'hang' | 500>();
    // The first event's first attempt never gets an answer; the second event's is refused with 500.
    receiver.answer = (request) => {
      const planned = firstTry.get(request.id);
      firstTry.set(request.id, 200 as never);
      return planned ?? 200;
    };

    const send = async (answer: 'hang' | 500) => {
      const res = await wisp.api.post<{ messageId: string }>(`/api/v1/webhooks/${hook}/test`);
      expect(res.status).toBe(202);
      firstTry.set(res.body.data.messageId, answer);
      return res.body.data.messageId;
    };
    const deliveries = async () =>
      (await wisp.api.get<Delivery[]>(`/api/v1/webhooks/${hook}/deliveries`)).body.data ?? [];
    const cut = await send('hang');
    await receiver.waitFor(1, (request) => request.id === cut);
    const waiting = await send(500);
    await receiver.waitFor(1, (request) => request.id === waiting);
    // The failed attempt and its retry time are stored before the kill.
    await waitFor(deliveries, (list) =>
      list.some((d) => d.messageId === waiting && d.status === 'queued' && d.attempts === 1),
    );

    const database = wisp.databasePid();
    wisp.process!.child.kill('SIGKILL');
    await wisp.process!.exited;
    await waitUntilGone(database, 10_000);
    await wisp.start();

    const delivered = await receiver.waitFor(4, (request) => request.id === cut || request.id === waiting, 90_000);
    expect(delivered.every((request) => request.verifyError === null)).toBe(true);
    expect(delivered.filter((request) => request.id === cut)).toHaveLength(2);
    expect(delivered.filter((request) => request.id === waiting)).toHaveLength(2);
    // Only these two: the endpoint takes every event, and the server's own (e.g. a source becoming ready) may come too.
    const ours = (list: Delivery[]) => list.filter((d) => d.messageId === cut || d.messageId === waiting);
    const final = await waitFor(deliveries, (list) => ours(list).every((d) => d.status === 'delivered'));
    expect(ours(final)).toHaveLength(2);
    // Two cold starts of the server and its database take most of this on a busy machine.
  }, 240_000);
});
