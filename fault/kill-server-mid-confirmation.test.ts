import { afterAll, describe, expect, it } from 'vitest';
import type { WidgetClient } from '../server/test/widget-client.js';
import {
  addShopAction,
  expectConfirmedTurnStored,
  killMidFollowUp,
  modelCalls,
  setupShopFault,
  shopRequests,
} from './support/shop-fault.js';
import { askUntilPaused, pressAgainAfterRestart, widgetVisitor } from './support/widget-visitor.js';
import { waitFor } from './support/wisp-server.js';

const CANCEL = '/api/orders/7002/cancel';
const WIDGET_CANCEL = '/api/orders/7004/cancel';

interface Confirmation {
  status: string;
  messageId: string;
  answer: { response: string; messageId: string; finishReason: string };
}

describe('kill -9 of the server after a REST or widget confirmation ran its action, before the follow-up was written', () => {
  const fault = setupShopFault();
  const clients: WidgetClient[] = [];
  afterAll(() => {
    for (const client of clients) client.disconnect();
  });

  it('the same confirmation sent again resumes it: the stored outcome is reused, the follow-up written once, then replayed', async () => {
    const { wisp, fake } = fault;
    await wisp.start();
    const chatbotId = await wisp.createBot('Crash');
    await addShopAction(fault, chatbotId, 'cancel_order');
    const asked = await wisp.api.post<{ requiresAction: { token: string }; messageId: string }>('/api/v1/chat', {
      chatbotId,
      message: 'Cancel it #tool:cancel_order {"orderNumber":"7002"}',
    });
    expect(asked.status).toBe(200);
    const { token } = asked.body.data.requiresAction;
    const confirm = (approve = true) => wisp.api.post<Confirmation>('/api/v1/chat/confirm', { token, approve });

    // A REST confirmation answers only with its follow-up: its request is cut by the kill.
    let cut: Promise<unknown> = Promise.resolve();
    await killMidFollowUp(fault, CANCEL, async () => {
      cut = confirm().catch((error: unknown) => error);
    });
    await cut;

    // Until the restarted server has swept the cut answer it reads as still being answered (503); then it resumes.
    const resumed = await waitFor(
      () => confirm(),
      (res) => res.status !== 503,
      60_000,
    );
    expect(resumed.status).toBe(200);
    expect(resumed.body.data).toMatchObject({ status: 'succeeded', messageId: asked.body.data.messageId });
    expect(resumed.body.data.answer.response).toContain('succeeded');
    // Reused, not sent again.
    expect(shopRequests(fault, CANCEL)).toBe(1);
    await expectConfirmedTurnStored(fault);

    // Sent once more it replays the stored follow-up: no model call, no request; the other decision is refused.
    const calls = modelCalls(fake);
    const replayed = await confirm();
    expect(replayed.status).toBe(200);
    expect(replayed.body.data).toEqual(resumed.body.data);
    expect((await confirm(false)).status).toBe(409);
    expect(modelCalls(fake)).toBe(calls);
    expect(shopRequests(fault, CANCEL)).toBe(1);
  }, 240_000);

  it('in the widget: the visitor pressing Approve again after the restart resumes it, once', async () => {
    // The server of the test above, restarted, with its bot and action.
    const { wisp } = fault;
    const visitor = widgetVisitor(wisp, 'crash', clients);
    const client = await visitor.connect();
    const question = await askUntilPaused(
      client,
      'Cancel it #tool:cancel_order {"orderNumber":"7004"}',
      'widget-confirm-1',
    );

    await killMidFollowUp(fault, WIDGET_CANCEL, async () => {
      const approved = await client.emitWithAck('chat:confirm', { messageId: question.id, approve: true });
      expect(approved.data).toEqual({ messageId: question.id, status: 'succeeded' });
    });

    // The widget's Approve again, on the same answer: 503 until the cut answer is swept, then it resumes.
    await pressAgainAfterRestart(visitor, question.id, true, 'succeeded');
    expect(shopRequests(fault, WIDGET_CANCEL)).toBe(1);
  }, 240_000);
});
