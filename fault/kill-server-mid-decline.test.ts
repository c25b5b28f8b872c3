import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPlatformFakes, type PlatformFakes } from '../server/channels/test/platform-fakes.js';
import { connectMongo } from '../server/db/mongo.js';
import type { WidgetClient } from '../server/test/widget-client.js';
import { UNLIMITED_RATE_ENV } from '../server/test/unlimited-limits.js';
import { DatabaseGate } from './support/database-gate.js';
import { addWebhookChannel } from './support/channel-fault.js';
import { addShopAction, expectConfirmedTurnStored, setupShopFault } from './support/shop-fault.js';
import { askUntilPaused, pressAgainAfterRestart, widgetVisitor } from './support/widget-visitor.js';
import { waitFor } from './support/wisp-server.js';

interface Confirmation {
  status: string;
  messageId: string;
  answer: { response: string; messageId: string };
}

describe('kill -9 of the server after a declined confirmation recorded its run, before the answer stored it', () => {
  // The server uses the test run's database through a relay that closes after the decline's run is written, so
  // the kill lands between that write and the answer's (nothing outside the database is called in between).
  // The retries until the cut request's key lock lapses would otherwise spend the key's per-second limit (429).
  const env: Record<string, string> = {
    ...UNLIMITED_RATE_ENV,
    CHANNEL_REPLY_LEASE_MS: '2000',
    CHANNEL_REPLY_BACKOFF_MS: '100',
    IDEMPOTENCY_LOCK_MS: '2000',
  };
  const dbName = `wisp_decline_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  let gate: DatabaseGate;
  let db: Connection;
  let fakes: PlatformFakes;
  beforeAll(async () => {
    fakes = await startPlatformFakes();
    const uri = new URL(inject('mongoUri'));
    uri.pathname = `/${dbName}`;
    gate = await DatabaseGate.start(uri.toString());
    env.MONGODB_URI = gate.uriThrough(uri.toString());
    db = await connectMongo(uri.toString(), { dbName });
  });
  const fault = setupShopFault(env);
  const clients: WidgetClient[] = [];
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await db?.dropDatabase().catch(() => undefined);
    await db?.close();
    await gate?.stop();
    await fakes?.stop();
  });

  /**
   * Declines the action paused on `messageId` through `decline`, kills the server once the decline's run is
   * stored, checks what the kill left (the run, and the answer's call still pending), restarts the server.
   */
  const cutAfterTheDeclinedRun = async (messageId: string, decline: () => Promise<unknown>) => {
    const { wisp } = fault;
    const runsBefore = (await storedRuns(actionId)).length;
    const closed = gate.closeAfterWriteTo('action_runs');
    const cut = decline().catch((error: unknown) => error);
    await closed;
    wisp.process!.child.kill('SIGKILL');
    await wisp.process!.exited;
    await cut;
    expect(await storedRuns(actionId)).toHaveLength(runsBefore + 1);
    expect(await storedCallStatuses(messageId)).toEqual(['pending']);
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

  it('the same decline sent again (same Idempotency-Key) resumes it: one declined run, one follow-up, then replayed; approving is 409', async () => {
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
    const key = randomUUID();
    const confirm = (approve: boolean, headers: Record<string, string> = { 'idempotency-key': key }) =>
      wisp.api.post<Confirmation>('/api/v1/chat/confirm', { token, approve }, headers);
    const modelCalls = () => fake.calls.filter((call) => call.path === '/v1/chat/completions').length;

    // Cut before the answer stored the decline: the run is there, the answer's call still reads pending.
    await cutAfterTheDeclinedRun(asked.body.data.messageId, () => confirm(false));
    const before = modelCalls();

    // Until the cut request's key lock lapses the key reads as still running (409); until the restarted server
    // sees the cut answer's lease lapse, the answer as still being answered (503). Neither is kept for the key.
    const resumed = await waitFor(
      () => confirm(false),
      (res) => res.status !== 503 && res.status !== 409,
      60_000,
    );
    expect(resumed.status).toBe(200);
    expect(resumed.headers.get('idempotent-replayed')).toBeNull();
    expect(resumed.body.data).toMatchObject({ status: 'declined', messageId: asked.body.data.messageId });
    expect(resumed.body.data.answer.response).toContain('declined');
    // The same key replays the stored response; without a key the same decline replays the stored outcome.
    const replayed = await confirm(false);
    expect(replayed.status).toBe(200);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(replayed.body).toEqual(resumed.body);
    const unkeyed = await confirm(false, {});
    expect(unkeyed.status).toBe(200);
    expect(unkeyed.body.data).toEqual(resumed.body.data);
    expect((await confirm(true, {})).status).toBe(409);

    const runs = await storedRuns(actionId);
    expect(runs.map((run) => [run.status, run._id.toString()])).toEqual([['declined', expect.any(String)]]);
    const listed = await wisp.api.get<Array<{ status: string }>>(`/api/v1/actions/${actionId}/runs`);
    expect(listed.body.data.map((run) => run.status)).toEqual(['declined']);
    await expectConfirmedTurnStored(fault, 'declined');
    // The follow-up was asked once (the cut attempt never reached the model); nothing was sent to the shop.
    expect(modelCalls()).toBe(before + 1);
    expect(shop.requests).toHaveLength(0);
  }, 240_000);

  it('in the widget: the visitor pressing Decline again after the restart resumes it, with one declined run', async () => {
    const { wisp, shop } = fault;
    const visitor = widgetVisitor(wisp, 'decline', clients);
    const client = await visitor.connect();
    const question = await askUntilPaused(
      client,
      'Cancel it #tool:cancel_order {"orderNumber":"7103"}',
      'widget-decline-1',
    );
    const runsBefore = (await storedRuns(actionId)).length;

    await cutAfterTheDeclinedRun(question.id, () =>
      client.timeout(60_000).emitWithAck('chat:confirm', { messageId: question.id, approve: false }),
    );

    await pressAgainAfterRestart(visitor, question.id, false, 'declined');
    expect((await storedRuns(actionId)).map((run) => run.status)).toEqual(
      Array.from({ length: runsBefore + 1 }, () => 'declined'),
    );
    expect(shop.requests).toHaveLength(0);
  }, 240_000);

  it('from a channel: the reply job that took the decline resumes it after the restart, one declined run, the follow-up delivered once', async () => {
    const { wisp, shop } = fault;
    const { deliver, callbacks, followUps } = await addWebhookChannel(wisp, chatbotId, fakes);
    const user = { id: 'cust-decline' };
    expect(
      (await deliver({ text: 'Cancel it #tool:cancel_order {"orderNumber":"7105"}', user, conversation: 't-d' }))
        .status,
    ).toBe(200);
    const paused = await waitFor(
      async () => callbacks(),
      (calls) => calls.length > 0,
    );
    const token = (paused[0]!.body.requiresAction as { token: string }).token;
    const messageId = String(paused[0]!.body.messageId);
    const runsBefore = (await storedRuns(actionId)).length;

    let accepted: unknown = null;
    await cutAfterTheDeclinedRun(messageId, async () => {
      accepted = (await deliver({ type: 'confirm', token, approve: false, user })).body.data;
    });
    // Accepted at once, before the kill: the reply job that took it was cut.
    expect(accepted).toEqual({ accepted: 1 });

    // Nothing is sent again: the job that took the decline resumes it once its lease lapses.
    const delivered = await waitFor(
      async () => followUps(),
      (calls) => calls.length > 0,
      60_000,
    );
    expect(String(delivered[0]!.body.text)).toContain('declined');
    expect(await storedCallStatuses(messageId)).toEqual(['declined']);
    expect((await storedRuns(actionId)).map((run) => run.status)).toEqual(
      Array.from({ length: runsBefore + 1 }, () => 'declined'),
    );
    // The same decline delivered again continues nothing more.
    expect((await deliver({ type: 'confirm', token, approve: false, user })).status).toBe(404);
    expect(followUps()).toHaveLength(1);
    expect(await storedRuns(actionId)).toHaveLength(runsBefore + 1);
    expect(shop.requests).toHaveLength(0);
  }, 240_000);
});
