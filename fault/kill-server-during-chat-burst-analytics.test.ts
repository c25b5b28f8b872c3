import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsReport } from '../shared/schemas/analytics.js';
import { startFakeLlm, type FakeLlm } from '../server/test/fake-llm/fake-llm.server.js';
import { waitUntilGone } from '../server/test/server-process.js';
import { UNLIMITED_ENV } from '../server/test/unlimited-limits.js';
import { waitFor, WispServer } from './support/wisp-server.js';
import { restartAfterKill } from './support/webhook-fault.js';

interface ConversationRow {
  id: string;
}

/**
 * kill -9 of the server while chat turns are being written: after the restart, the analytics rollups agree
 * with what was stored (turns written just before the kill, whose updates never ran, are applied again from
 * the killed server's last heartbeat; answers it left pending count as interrupted, not as failures).
 */
describe('kill -9 of the server during a burst of chat turns, then analytics', () => {
  let wisp: WispServer;

  beforeAll(() => {
    wisp = new WispServer({
      ...UNLIMITED_ENV,
      ANALYTICS_RECONCILE_LEASE_MS: '1000',
      ANALYTICS_RECONCILE_POLL_MS: '300',
      ANSWER_LEASE_MS: '1000',
    });
  });
  afterAll(async () => {
    await wisp.dispose();
  });

  it('counts after the restart exactly what was stored', async () => {
    await wisp.start();
    const chatbotId = await wisp.createBot('Burst');
    const send = (i: number) =>
      fetch(`${wisp.url}/api/v1/chat`, {
        method: 'POST',
        headers: wisp.api.headers({ 'content-type': 'application/json' }),
        body: JSON.stringify({ chatbotId, message: `Question number ${i % 7}?`, sessionId: `burst-${i}` }),
      }).then(
        (res) => res.status,
        () => 0,
      );
    const answered: number[] = [];
    const burst = Array.from({ length: 40 }, (_, i) => send(i).then((status) => answered.push(status)));
    // Killed once some turns are through and others are being written.
    await waitFor(
      async () => answered.length,
      (count) => count >= 8,
    );
    const database = wisp.databasePid();
    wisp.process!.child.kill('SIGKILL');
    await Promise.all(burst);

    await restartAfterKill(wisp, database);
    // What is stored, read through the conversations API once the stranded answers are marked failed.
    const stored = await waitFor(
      async () => {
        const list = await wisp.api.get<ConversationRow[]>('/api/v1/conversations?perPage=100');
        const byConversation = await Promise.all(list.body.data.map((c) => wisp.messages(c.id)));
        const messages = byConversation.flat();
        return {
          conversations: list.body.data.length,
          // Each turn has a session of its own, so a visitor is a conversation with a question stored; a kill
          // between a conversation's write and its messages' leaves a conversation without one.
          uniqueVisitors: byConversation.filter((thread) => thread.some((m) => m.role === 'user')).length,
          visitorMessages: messages.filter((m) => m.role === 'user').length,
          answers: messages.filter((m) => m.role === 'assistant' && m.status === 'complete').length,
          pending: messages.filter((m) => m.status === 'pending').length,
        };
      },
      (now) => now.pending === 0,
    );
    expect(stored.conversations).toBeGreaterThan(0);
    const { pending: _pending, ...expected } = stored;
    const figures = await waitFor(
      async () => {
        const res = await wisp.api.get<AnalyticsReport>(`/api/v1/analytics?chatbotId=${chatbotId}`);
        const { conversations, visitorMessages, answers, uniqueVisitors, modelFailures } = res.body.data.totals;
        return { conversations, visitorMessages, answers, uniqueVisitors, modelFailures };
      },
      (now) =>
        now.conversations === expected.conversations &&
        now.visitorMessages === expected.visitorMessages &&
        now.answers === expected.answers,
    );
    expect(figures).toEqual({ ...expected, modelFailures: 0 });
  });
});

/**
 * kill -9 the moment a turn is accepted, its model not answering yet: analytics may have held the question to
 * apply it with the answer, which never comes; after the restart the question and its conversation count, and
 * the interrupted answer counts as neither an answer nor a model failure.
 */
describe('kill -9 of the server right after a turn is accepted, then analytics', () => {
  let fake: FakeLlm;
  let wisp: WispServer;

  beforeAll(async () => {
    // The model answers only long after the kill.
    fake = await startFakeLlm({ latencyMs: 60_000 });
    wisp = new WispServer({
      ...UNLIMITED_ENV,
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'test',
      OPENAI_MODEL: 'fake-chat',
      ANALYTICS_RECONCILE_LEASE_MS: '1000',
      ANALYTICS_RECONCILE_POLL_MS: '300',
      ANSWER_LEASE_MS: '1000',
    });
  });
  afterAll(async () => {
    await wisp.dispose();
    await fake.stop();
  });

  it('counts the question after the restart', async () => {
    await wisp.start();
    const chatbotId = await wisp.createBot('Cut');
    // The stream's headers are sent once the turn is accepted (its records stored).
    const reader = await wisp.stream({ chatbotId, message: 'Where is my order?', sessionId: 'cut' });
    const database = wisp.databasePid();
    wisp.process!.child.kill('SIGKILL');
    await wisp.process!.exited;
    await waitUntilGone(database, 10_000);
    await reader.rest();

    await wisp.start();
    const figures = await waitFor(
      async () => {
        const res = await wisp.api.get<AnalyticsReport>(`/api/v1/analytics?chatbotId=${chatbotId}`);
        const { conversations, visitorMessages, answers, modelFailures } = res.body.data.totals;
        return { conversations, visitorMessages, answers, modelFailures };
      },
      (now) => now.conversations === 1 && now.visitorMessages === 1,
    );
    expect(figures).toEqual({ conversations: 1, visitorMessages: 1, answers: 0, modelFailures: 0 });
  });
});
