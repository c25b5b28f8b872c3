import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { afterAll, describe, expect, it } from 'vitest';
import type { MessageDto } from '../shared/schemas/chat.js';
import type { WidgetClientEvents, WidgetServerEvents } from '../shared/socket-events.js';
import { addShopAction, setupShopFault } from './support/shop-fault.js';
import { restartAfterKill } from './support/webhook-fault.js';
import { waitFor } from './support/wisp-server.js';

const CANCEL = '/api/orders/7002/cancel';
const WIDGET_CANCEL = '/api/orders/7004/cancel';

type Client = Socket<WidgetServerEvents, WidgetClientEvents>;

interface Confirmation {
  status: string;
  messageId: string;
  answer: { response: string; messageId: string; finishReason: string };
}

describe('kill -9 of the server after a REST or widget confirmation ran its action, before the follow-up was written', () => {
  const fault = setupShopFault();
  const clients: Client[] = [];
  afterAll(() => {
    for (const client of clients) client.disconnect();
  });

  it('the same confirmation sent again resumes it: the stored outcome is reused, the follow-up written once, then replayed', async () => {
    const { wisp, shop, fake } = fault;
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

    // The follow-up's model call hangs, so the process dies after the action ran, before the follow-up exists.
    fake.setLatency(120_000);
    const modelCalls = () => fake.calls.filter((call) => call.path === '/v1/chat/completions').length;
    const before = modelCalls();
    const cut = confirm().catch((error: unknown) => error);
    await waitFor(
      async () => modelCalls(),
      (count) => count > before,
    );
    expect(shop.requests.filter((request) => request.target === CANCEL)).toHaveLength(1);

    const database = wisp.databasePid();
    wisp.process!.child.kill('SIGKILL');
    await cut;
    fake.setLatency(0, 0);
    await restartAfterKill(wisp, database);

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
    expect(shop.requests.filter((request) => request.target === CANCEL)).toHaveLength(1);
    const conversations = await wisp.api.get<Array<{ id: string }>>('/api/v1/conversations');
    const messages = await wisp.api.get<Array<{ role: string; status: string; toolCalls?: Array<{ status: string }> }>>(
      `/api/v1/conversations/${conversations.body.data[0]!.id}/messages`,
    );
    expect(messages.body.data.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
    expect(messages.body.data[1]!.toolCalls).toEqual([expect.objectContaining({ status: 'succeeded' })]);

    // Sent once more it replays the stored follow-up: no model call, no request; the other decision is refused.
    const calls = modelCalls();
    const replayed = await confirm();
    expect(replayed.status).toBe(200);
    expect(replayed.body.data).toEqual(resumed.body.data);
    expect((await confirm(false)).status).toBe(409);
    expect(modelCalls()).toBe(calls);
    expect(shop.requests.filter((request) => request.target === CANCEL)).toHaveLength(1);
  }, 240_000);

  it('in the widget: the visitor pressing Approve again after the restart resumes it, once', async () => {
    // The server of the test above, restarted, with its bot and action.
    const { wisp, shop, fake } = fault;
    const visitor: { visitorId: string; visitorToken?: string } = { visitorId: `v_${randomUUID()}` };
    const connect = async () => {
      const client: Client = io(`${wisp.url}/widget`, {
        transports: ['websocket'],
        auth: (cb) => cb({ bot: 'crash', ...visitor }),
        reconnection: false,
      });
      clients.push(client);
      await new Promise<void>((resolve) =>
        client.once('session', (session) => {
          visitor.visitorToken = session.visitorToken;
          resolve();
        }),
      );
      return client;
    };
    const doneOn = (client: Client) =>
      new Promise<MessageDto>((resolve) => client.once('chat:done', ({ message }) => resolve(message)));
    let client = await connect();
    const paused = doneOn(client);
    const sent = await client.emitWithAck('chat:send', {
      text: 'Cancel it #tool:cancel_order {"orderNumber":"7004"}',
      clientMessageId: 'widget-confirm-1',
      conversationId: null,
    });
    expect(sent.error).toBeUndefined();
    const question = await paused;
    expect(question.pendingAction).toMatchObject({ action: 'cancel_order' });

    fake.setLatency(120_000);
    const modelCalls = () => fake.calls.filter((call) => call.path === '/v1/chat/completions').length;
    const before = modelCalls();
    const approved = await client.emitWithAck('chat:confirm', { messageId: question.id, approve: true });
    expect(approved.data).toEqual({ messageId: question.id, status: 'succeeded' });
    await waitFor(
      async () => modelCalls(),
      (count) => count > before,
    );
    expect(shop.requests.filter((request) => request.target === WIDGET_CANCEL)).toHaveLength(1);

    const database = wisp.databasePid();
    wisp.process!.child.kill('SIGKILL');
    fake.setLatency(0, 0);
    await restartAfterKill(wisp, database);

    // The widget's Approve again, on the same answer: 503 until the cut answer is swept, then it resumes.
    client = await connect();
    const followUp = doneOn(client);
    const again = await waitFor(
      () => client.timeout(10_000).emitWithAck('chat:confirm', { messageId: question.id, approve: true }),
      (ack) => ack.error?.name !== 'UnavailableError',
      60_000,
    );
    expect(again.data).toEqual({ messageId: question.id, status: 'succeeded' });
    const answer = await followUp;
    expect(answer).toMatchObject({ id: question.id, status: 'complete' });
    expect(answer.content).toContain('succeeded');
    expect(shop.requests.filter((request) => request.target === WIDGET_CANCEL)).toHaveLength(1);
  }, 240_000);
});
