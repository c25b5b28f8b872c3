import { describe, expect, it } from 'vitest';
import { restartAfterKill, setupWebhookFault, subscribeReceiver } from './support/webhook-fault.js';
import { waitFor } from './support/wisp-server.js';

interface Delivery {
  messageId: string;
  status: string;
  attempts: number;
}

describe('kill -9 of the server between a webhook event and its delivery', () => {
  const fault = setupWebhookFault({
    // A killed attempt's lease runs out soon after the restart; a failed attempt is retried 5 s later (long
    // enough for the test to see it waiting and kill the server, even on a busy machine).
    WEBHOOK_LEASE_MS: '2000',
    WEBHOOK_RETRY_SCHEDULE_MS: '5000',
  });

  it('delivers after the restart both the event whose attempt was cut and the one waiting for its retry', async () => {
    const { wisp, receiver } = fault;
    await wisp.start();
    const hook = await subscribeReceiver(fault, ['*']);
    // The first event's first attempt never gets an answer; the second event's is refused with 500. The plans are
    // taken in the order the events first arrive: an attempt can reach the receiver before the API's 202 does.
    const firstAnswers: Array<'hang' | 500> = ['hang', 500];
    const seen = new Set<string>();
    receiver.answer = (request) => {
      if (request.verified?.type !== 'webhook.test' || seen.has(request.id)) return 200;
      seen.add(request.id);
      return firstAnswers.shift() ?? 200;
    };

    const send = async () => {
      const res = await wisp.api.post<{ messageId: string }>(`/api/v1/webhooks/${hook}/test`);
      expect(res.status).toBe(202);
      return res.body.data.messageId;
    };
    const deliveries = async () =>
      (await wisp.api.get<Delivery[]>(`/api/v1/webhooks/${hook}/deliveries`)).body.data ?? [];
    const cut = await send();
    await receiver.waitFor(1, (request) => request.id === cut);
    const waiting = await send();
    await receiver.waitFor(1, (request) => request.id === waiting);
    // The failed attempt and its retry time are stored before the kill.
    await waitFor(deliveries, (list) =>
      list.some((d) => d.messageId === waiting && d.status === 'queued' && d.attempts === 1),
    );

    const database = wisp.databasePid();
    wisp.process!.child.kill('SIGKILL');
    await restartAfterKill(wisp, database);

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
