import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNLIMITED_ENV } from '../server/test/unlimited-limits.js';
import { waitFor, WispServer } from './support/wisp-server.js';
import { restartAfterKill } from './support/webhook-fault.js';

interface Answered {
  response: string;
  conversationId: string;
  messageId: string;
}

interface Outcome {
  status: number;
  data?: Answered;
}

const TURNS = 100;

/**
 * Sends `TURNS` JSON chat turns at once (`body(i)` the i-th), kills the database once 8 have settled, waits for the
 * server to exit 1 and restarts both: the turns answered 200, with their index. Anything else was refused with a
 * status or cut, never answered 200 without being stored (each test checks what is stored).
 */
async function killDatabaseDuringBurst(
  wisp: WispServer,
  body: (i: number) => Record<string, unknown>,
): Promise<Array<Answered & { i: number }>> {
  const send = (i: number): Promise<Outcome> =>
    fetch(`${wisp.url}/api/v1/chat`, {
      method: 'POST',
      headers: wisp.api.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify(body(i)),
    }).then(
      async (res) => ({ status: res.status, data: res.status === 200 ? (await res.json()).data : undefined }),
      () => ({ status: 0 }),
    );
  let settled = 0;
  const burst = Array.from({ length: TURNS }, (_, i) =>
    send(i).finally(() => {
      settled += 1;
    }),
  );
  // Killed once some turns are through and others are being written.
  await waitFor(
    async () => settled,
    (count) => count >= 8,
  );
  const database = wisp.databasePid();
  process.kill(database, 'SIGKILL');
  const outcomes = await Promise.all(burst);
  expect((await wisp.process!.exit(60_000)).code).toBe(1);
  const acknowledged = outcomes.flatMap((o, i) => (o.status === 200 ? [{ i, ...o.data! }] : []));
  expect(acknowledged.length).toBeGreaterThanOrEqual(8);
  for (const o of outcomes) expect([0, 200, 503]).toContain(o.status);
  await restartAfterKill(wisp, database);
  return acknowledged;
}

/**
 * kill -9 of the embedded database while many chat turns are in flight: concurrent turns' conversations and
 * messages are written grouped, several turns in one bulk command, so a command cut by the kill concerns many
 * turns at once. Every turn answered 200 before the kill is stored after the restart, exactly as answered; no
 * turn is stored twice; and a retry of every turn (same clientMessageId) answers each once, replaying the
 * answers already given.
 */
describe('kill -9 of the embedded database during a burst of chat turns', () => {
  let wisp: WispServer;

  beforeAll(() => {
    // No chat model: answers come from the knowledge at once, so turns are written as fast as they arrive.
    wisp = new WispServer({ ...UNLIMITED_ENV, SHUTDOWN_GRACE_MS: '1000', ANSWER_LEASE_MS: '1000' });
  });
  afterAll(async () => {
    await wisp.dispose();
  });

  it('keeps every acknowledged turn as answered, stores none twice, and a retry answers each once', async () => {
    await wisp.start();
    const chatbotId = await wisp.createBot('Burst');
    const turn = (i: number) => ({
      chatbotId,
      message: `Question number ${i}?`,
      sessionId: `burst-${i}`,
      clientMessageId: `burst-${i}-1`,
    });
    const acknowledged = await killDatabaseDuringBurst(wisp, turn);
    for (const turnAnswered of acknowledged) {
      const messages = await waitFor(
        () => wisp.messages(turnAnswered.conversationId),
        (stored) => stored.every((m) => m.status !== 'pending'),
      );
      expect(messages.map((m) => [m.role, m.status])).toEqual([
        ['user', 'complete'],
        ['assistant', 'complete'],
      ]);
      expect(messages[0]).toMatchObject({
        content: turn(turnAnswered.i).message,
        clientMessageId: `burst-${turnAnswered.i}-1`,
      });
      expect(messages[1]).toMatchObject({ id: turnAnswered.messageId, content: turnAnswered.response });
    }

    // Every turn again, with its clientMessageId: each is answered, the acknowledged ones by their stored answer.
    const retries = await Promise.all(
      Array.from({ length: TURNS }, (_, i) => wisp.api.post<Answered>('/api/v1/chat', turn(i))),
    );
    for (const [i, retry] of retries.entries()) {
      expect(retry.status, `turn ${i}`).toBe(200);
      const before = acknowledged.find((a) => a.i === i);
      if (before) expect(retry.body.data).toMatchObject({ messageId: before.messageId, response: before.response });
    }
    const conversations = await wisp.api.get<Array<{ id: string; sessionId: string | null }>>(
      '/api/v1/conversations?perPage=100',
    );
    expect(conversations.body.data).toHaveLength(TURNS);
    for (const conversation of conversations.body.data) {
      const messages = await wisp.messages(conversation.id);
      expect(
        messages.map((m) => [m.role, m.status]),
        `session ${conversation.sessionId}`,
      ).toEqual([
        ['user', 'complete'],
        ['assistant', 'complete'],
      ]);
    }
  }, 240_000);
});

/**
 * The same kill while each turn starts a conversation of its own (no session named): such a conversation is written
 * with its first message already counted, before the message itself is stored. Every turn answered 200 is stored
 * as answered after the restart, in a conversation counting exactly its two stored messages, and no question is
 * stored twice.
 */
describe('kill -9 of the embedded database during a burst of turns that start their conversations', () => {
  let wisp: WispServer;

  beforeAll(() => {
    wisp = new WispServer({ ...UNLIMITED_ENV, SHUTDOWN_GRACE_MS: '1000', ANSWER_LEASE_MS: '1000' });
  });
  afterAll(async () => {
    await wisp.dispose();
  });

  it('keeps every acknowledged turn as answered, in a conversation counting its stored messages', async () => {
    await wisp.start();
    const chatbotId = await wisp.createBot('Burst');
    const message = (i: number) => `Question number ${i}?`;
    const acknowledged = await killDatabaseDuringBurst(wisp, (i) => ({ chatbotId, message: message(i) }));
    const conversations = await wisp.api.get<Array<{ id: string; messageCount: number }>>(
      '/api/v1/conversations?perPage=100',
    );
    for (const turnAnswered of acknowledged) {
      const messages = await waitFor(
        () => wisp.messages(turnAnswered.conversationId),
        (stored) => stored.every((m) => m.status !== 'pending'),
      );
      expect(messages.map((m) => [m.role, m.status, m.content])).toEqual([
        ['user', 'complete', message(turnAnswered.i)],
        ['assistant', 'complete', turnAnswered.response],
      ]);
      expect(messages[1]!.id).toBe(turnAnswered.messageId);
      const conversation = conversations.body.data.find((c) => c.id === turnAnswered.conversationId);
      expect(conversation?.messageCount, `turn ${turnAnswered.i}`).toBe(2);
    }
    // Each question is stored at most once, whatever became of its turn.
    const questions = new Map<string, number>();
    for (const conversation of conversations.body.data) {
      for (const stored of await wisp.messages(conversation.id)) {
        if (stored.role === 'user') questions.set(stored.content, (questions.get(stored.content) ?? 0) + 1);
      }
    }
    for (const [question, times] of questions) expect(times, question).toBe(1);
  }, 240_000);
});
