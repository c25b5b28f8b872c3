import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MessageDto } from '../shared/schemas/chat.js';
import type { WidgetClientEvents, WidgetServerEvents } from '../shared/socket-events.js';
import { connectMongo } from '../server/db/mongo.js';
import { DatabaseGate } from './support/database-gate.js';
import { addShopAction, setupShopFault } from './support/shop-fault.js';
import { waitFor } from './support/wisp-server.js';

type Client = Socket<WidgetServerEvents, WidgetClientEvents>;

interface Confirmation {
  status: string;
  messageId: string;
  answer: { response: string; messageId: string };
}

describe('kill -9 of the server after a declined confirmation recorded its run, before the answer stored it', () => {
  // The server uses the test run's database through a relay that closes after the decline's run is written, so
  // the kill lands between that write and the answer's (nothing outside the database is called in between).
  const env: Record<string, string> = {};
  const dbName = `wisp_decline_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  let gate: DatabaseGate;
  let db: Connection;
  beforeAll(async () => {
    const uri = new URL(inject('mongoUri'));
    uri.pathname = `/${dbName}`;
    gate = await DatabaseGate.start(uri.toString());
    env.MONGODB_URI = gate.uriThrough(uri.toString());
    db = await connectMongo(uri.toString(), { dbName });
  });
  const fault = setupShopFault(env);
  const clients: Client[] = [];
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await db?.dropDatabase().catch(() => undefined);
    await db?.close();
    await gate?.stop();
  });

  /** Declines through `decline`, kills the server once the decline's run is stored, restarts it. */
  const cutAfterTheDeclinedRun = async (decline: () => Promise<unknown>) => {
    const { wisp } = fault;
    const closed = gate.closeAfterWriteTo('action_runs');
    const cut = decline().catch((error: unknown) => error);
    await closed;
    wisp.process!.child.kill('SIGKILL');
    await wisp.process!.exited;
    await cut;
    gate.open();
    await wisp.start();
  };
  const storedRuns = (actionId: string) =>
    db
      .collection('action_runs')
      .find({ actionId: new db.base.Types.ObjectId(actionId) })
      .toArray();
  const storedCallStatuses = async (messageId: string) => {
    const answer = await db.collection('messages').findOne({ _id: new db.base.Types.ObjectId(messageId) });
    return (answer?.toolCalls as Array<{ status: string }>).map((call) => call.status);
  };

  let chatbotId = '';
  let actionId = '';

  it('the same decline sent again resumes it: one declined run, one follow-up, then replayed; approving is 409', async () => {
    const { wisp, shop, fake } = fault;
    await wisp.start();
    chatbotId = await wisp.createBot('Decline');
    actionId = await addShopAction(fault, chatbotId, 'cancel_order');
    const asked = await wisp.api.post<{ requiresAction: { token: string }; messageId: string }>('/api/v1/chat', {
      chatbotId,
      message: 'Cancel it #tool:cancel_order {"orderNumber":"7101"}',
    });
    expect(asked.status).toBe(200);
    const { token } = asked.body.data.requiresAction;
    const confirm = (approve: boolean) => wisp.api.post<Confirmation>('/api/v1/chat/confirm', { token, approve });
    const modelCalls = () => fake.calls.filter((call) => call.path === '/v1/chat/completions').length;

    await cutAfterTheDeclinedRun(() => confirm(false));
    // Cut before the answer stored the decline: the run is there, the answer's call still reads pending.
    expect(await storedRuns(actionId)).toHaveLength(1);
    expect(await storedCallStatuses(asked.body.data.messageId)).toEqual(['pending']);
    const before = modelCalls();

    // Until the restarted server sees the cut answer's lease lapse it reads as still being answered (503).
    const resumed = await waitFor(
      () => confirm(false),
      (res) => res.status !== 503,
      60_000,
    );
    expect(resumed.status).toBe(200);
    expect(resumed.body.data).toMatchObject({ status: 'declined', messageId: asked.body.data.messageId });
    expect(resumed.body.data.answer.response).toContain('declined');
    const replayed = await confirm(false);
    expect(replayed.status).toBe(200);
    expect(replayed.body.data).toEqual(resumed.body.data);
    expect((await confirm(true)).status).toBe(409);

    const runs = await storedRuns(actionId);
    expect(runs.map((run) => [run.status, run._id.toString()])).toEqual([['declined', expect.any(String)]]);
    const listed = await wisp.api.get<Array<{ status: string }>>(`/api/v1/actions/${actionId}/runs`);
    expect(listed.body.data.map((run) => run.status)).toEqual(['declined']);
    const conversations = await wisp.api.get<Array<{ id: string }>>('/api/v1/conversations');
    const messages = await wisp.api.get<Array<{ role: string; status: string; toolCalls?: Array<{ status: string }> }>>(
      `/api/v1/conversations/${conversations.body.data[0]!.id}/messages`,
    );
    expect(messages.body.data.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
    expect(messages.body.data[1]!.toolCalls).toEqual([expect.objectContaining({ status: 'declined' })]);
    // The follow-up was asked once (the cut attempt never reached the model); nothing was sent to the shop.
    expect(modelCalls()).toBe(before + 1);
    expect(shop.requests).toHaveLength(0);
  }, 240_000);

  it('in the widget: the visitor pressing Decline again after the restart resumes it, with one declined run', async () => {
    const { wisp, shop } = fault;
    const visitor: { visitorId: string; visitorToken?: string } = { visitorId: `v_${randomUUID()}` };
    const connect = async () => {
      const client: Client = io(`${wisp.url}/widget`, {
        transports: ['websocket'],
        auth: (cb) => cb({ bot: 'decline', ...visitor }),
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
      text: 'Cancel it #tool:cancel_order {"orderNumber":"7103"}',
      clientMessageId: 'widget-decline-1',
      conversationId: null,
    });
    expect(sent.error).toBeUndefined();
    const question = await paused;
    expect(question.pendingAction).toMatchObject({ action: 'cancel_order' });
    const runsBefore = (await storedRuns(actionId)).length;

    const pressed = client;
    await cutAfterTheDeclinedRun(() =>
      pressed.timeout(60_000).emitWithAck('chat:confirm', { messageId: question.id, approve: false }),
    );
    expect(await storedRuns(actionId)).toHaveLength(runsBefore + 1);
    expect(await storedCallStatuses(question.id)).toEqual(['pending']);

    client = await connect();
    const followUp = doneOn(client);
    const again = await waitFor(
      () => client.timeout(10_000).emitWithAck('chat:confirm', { messageId: question.id, approve: false }),
      (ack) => ack.error?.name !== 'UnavailableError',
      60_000,
    );
    expect(again.data).toEqual({ messageId: question.id, status: 'declined' });
    const answer = await followUp;
    expect(answer).toMatchObject({ id: question.id, status: 'complete' });
    expect(answer.content).toContain('declined');
    expect((await storedRuns(actionId)).map((run) => run.status)).toEqual(['declined', 'declined']);
    expect(shop.requests).toHaveLength(0);
  }, 240_000);
});
