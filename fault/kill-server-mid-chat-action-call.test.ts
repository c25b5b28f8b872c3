import { describe, expect, it } from 'vitest';
import { addShopAction, killAndRestart, setupShopFault } from './support/shop-fault.js';
import { waitFor } from './support/wisp-server.js';

const LOOKUP = '/api/orders/7003';

interface Run {
  status: string;
  error: string | null;
  sends: number;
  idempotencyKey: string | null;
}

describe('kill -9 of the server while a chat action call is out', () => {
  const fault = setupShopFault();

  it('the run reads interrupted after the restart (not sending), and the retried turn sends it again with the same key', async () => {
    const { wisp, shop } = fault;
    await wisp.start();
    const chatbotId = await wisp.createBot('Crash');
    const actionId = await addShopAction(fault, chatbotId, 'order_status');
    const runs = async () => (await wisp.api.get<Run[]>(`/api/v1/actions/${actionId}/runs`)).body.data;
    const turn = {
      chatbotId,
      message: 'Where is it? #tool:order_status {"orderNumber":"7003"}',
      sessionId: 'crash-call',
      clientMessageId: 'crash-call-1',
    };

    // The shop takes the request and never answers: the process dies with the call out.
    shop.hold(LOOKUP);
    const cut = wisp.api.post('/api/v1/chat', turn).catch((error: unknown) => error);
    await waitFor(
      () => runs(),
      (list) => list.length === 1 && list[0]!.status === 'sending',
    );
    await killAndRestart(fault, async () => {
      await cut;
      shop.release();
    });

    // The sweep after the restart fails the cut answer and closes its call honestly.
    const [interrupted] = await waitFor(
      () => runs(),
      (list) => list[0]?.status === 'interrupted',
      60_000,
    );
    expect(interrupted!.error).toContain('whether it acted is unknown');
    const conversation = await wisp.conversationOf(turn.sessionId);
    expect((await wisp.messages(conversation!)).map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'failed'],
    ]);

    // The retried turn sends the same call again, with the same key: the shop acts once.
    const retried = await wisp.api.post<{ response: string }>('/api/v1/chat', turn);
    expect(retried.status).toBe(200);
    expect(retried.body.data.response).toContain('shipped');
    const [done] = await runs();
    expect(done).toMatchObject({ status: 'succeeded', sends: 2, idempotencyKey: interrupted!.idempotencyKey });
    expect(shop.effects(LOOKUP)).toBe(1);
  }, 240_000);
});
