import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { WidgetServerPayload } from '../../shared/socket-events.js';
import { startFakeModelBot, type FakeModelBot } from '../test/test-app.js';
import { connectWidget, send, type WidgetClient } from '../test/widget-client.js';

/** How many tabs send the same message at once: enough that several lose the race for one answer. */
const RACERS = 4;

describe('several widget sends of one clientMessageId in flight together', () => {
  let running: FakeModelBot;
  const open: WidgetClient[] = [];

  beforeAll(async () => {
    running = await startFakeModelBot({
      // Each test's visitor sends once, then races every tab, then sends again: more than the default burst.
      env: { MODEL_MAX_RETRIES: '0', WIDGET_MESSAGES_BURST_PER_VISITOR: '20' },
      orgName: 'Duplicate send org',
      bot: { name: 'Twice bot', slug: 'twice-bot' },
    });
  });
  beforeEach(() => running.fake.reset());
  afterAll(async () => {
    for (const socket of open) socket.disconnect();
    await running.stop();
  });

  /** `RACERS` tabs of one visitor, in a conversation that already holds a message (so every send shares it). */
  async function tabsInConversation() {
    const first = await connectWidget(running.t.url, { bot: 'twice-bot' });
    const sameVisitor = () =>
      connectWidget(running.t.url, {
        bot: 'twice-bot',
        visitorId: first.session.visitorId,
        visitorToken: first.session.visitorToken,
      }).then((tab) => tab.socket);
    const tabs: [WidgetClient, WidgetClient, ...WidgetClient[]] = [first.socket, await sameVisitor()];
    while (tabs.length < RACERS) tabs.push(await sameVisitor());
    open.push(...tabs);
    const done = new Promise<void>((resolve) => first.socket.once('chat:done', () => resolve()));
    const opening = await send(first.socket, 'Hello there');
    await done;
    const conversationId = opening.data?.conversationId ?? '';
    expect(conversationId).not.toBe('');
    return { tabs, conversationId };
  }

  /** Every `event` the socket receives from now on, and a wait for the first one matching. */
  function collect<E extends 'chat:done' | 'chat:error'>(socket: WidgetClient, event: E) {
    const events: Array<WidgetServerPayload<E>> = [];
    const waiters: Array<() => void> = [];
    const listener = (payload: WidgetServerPayload<E>) => {
      events.push(payload);
      for (const wake of waiters.splice(0)) wake();
    };
    (socket.on as (name: E, listener: (payload: WidgetServerPayload<E>) => void) => void)(event, listener);
    const until = async (ready: (events: Array<WidgetServerPayload<E>>) => boolean) => {
      while (!ready(events)) await new Promise<void>((resolve) => waiters.push(resolve));
      return events;
    };
    return { events, until };
  }

  /** Chat completions the model server was asked whose prompt holds `question`. */
  function modelCallsAbout(question: string): number {
    return running.fake.calls.filter(
      (call) => call.path === '/v1/chat/completions' && JSON.stringify(call.body).includes(question),
    ).length;
  }

  async function storedTurn(conversationId: string, clientMessageId: string) {
    const { Message } = running.t.app.models;
    const questions = await Message.find({ conversationId, clientMessageId }).lean();
    const answers = await Message.find({ conversationId, replyTo: { $in: questions.map((q) => q._id) } }).lean();
    return { questions, answers };
  }

  it('answers every ack when the answer fails, each naming the one answer and getting its error, stored once', async () => {
    const { tabs, conversationId } = await tabsInConversation();
    running.fake.failAlways(500);
    const errors = collect(tabs[0], 'chat:error');

    const clientMessageId = 'c_racing_failed';
    const replies = await Promise.all(
      tabs.map((tab) => send(tab, 'Where is my parcel?', clientMessageId, conversationId)),
    );

    // A send that finds the answer failed answers again (as the API's retry does); one that loses that retry to
    // another send follows it and gets its outcome. Every send was accepted, naming the one stored answer.
    const assistantMessageId = replies[0].data?.assistantMessageId;
    expect(assistantMessageId).toEqual(expect.any(String));
    for (const reply of replies) {
      expect(reply.error).toBeUndefined();
      expect(reply.data).toMatchObject({ conversationId, messageId: replies[0].data?.messageId, assistantMessageId });
    }
    // Each send's answer ends in the error, on the visitor's room (so every tab hears every send's end).
    for (const event of await errors.until((events) => events.length >= RACERS)) {
      expect(event).toMatchObject({
        conversationId,
        messageId: assistantMessageId,
        error: { name: 'UnavailableError' },
      });
    }

    // The first send asked the model, and at least one retry of its failed answer did; none asked twice.
    const calls = modelCallsAbout('Where is my parcel?');
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThanOrEqual(RACERS);
    const { questions, answers } = await storedTurn(conversationId, clientMessageId);
    expect(questions).toHaveLength(1);
    expect(answers.map((a) => a.status)).toEqual(['failed']);
  });

  it('a send that follows a failed race answers again, and its answer is stored on the same message', async () => {
    const { tabs, conversationId } = await tabsInConversation();
    running.fake.failAlways(500);
    const clientMessageId = 'c_racing_then_ok';
    const errors = collect(tabs[0], 'chat:error');
    await Promise.all(tabs.map((tab) => send(tab, 'Is it shipped?', clientMessageId, conversationId)));
    // Every send answered, and every answer failed.
    await errors.until((events) => events.length >= RACERS);

    running.fake.reset();
    const done = new Promise<WidgetServerPayload<'chat:done'>>((resolve) => tabs[0].once('chat:done', resolve));
    const retried = await send(tabs[0], 'Is it shipped?', clientMessageId, conversationId);
    expect(retried.data).toMatchObject({ duplicate: false });
    expect((await done).message).toMatchObject({ id: retried.data?.assistantMessageId, status: 'complete' });

    const { questions, answers } = await storedTurn(conversationId, clientMessageId);
    expect(questions).toHaveLength(1);
    expect(answers.map((a) => a.status)).toEqual(['complete']);
  });

  it('lets the other sends follow an answer still streaming: each ack names that answer, which then completes', async () => {
    const { tabs, conversationId } = await tabsInConversation();
    // Long enough to outlast the wait a repeated send gives a streaming answer before it is told to follow it.
    running.fake.setLatency(0, 60);
    const done = collect(tabs[1], 'chat:done');

    const clientMessageId = 'c_racing_streaming';
    const replies = await Promise.all(
      tabs.map((tab) => send(tab, 'Tell me all about returns #long', clientMessageId, conversationId)),
    );

    const winners = replies.filter((reply) => reply.data?.duplicate === false);
    expect(winners).toHaveLength(1);
    const assistantMessageId = winners[0]?.data?.assistantMessageId;
    expect(assistantMessageId).toEqual(expect.any(String));
    // Either the answer was already whole (replayed) or the send is told which answer to wait for.
    for (const loser of replies.filter((reply) => reply !== winners[0])) {
      if (loser.error) {
        expect(loser.error).toMatchObject({ name: 'ConflictError', details: { assistantMessageId, conversationId } });
      } else {
        expect(loser.data).toMatchObject({ duplicate: true, assistantMessageId });
      }
    }
    const answered = await done.until((events) => events.some((event) => event.message.id === assistantMessageId));
    expect(answered.find((event) => event.message.id === assistantMessageId)?.message.status).toBe('complete');
    expect(modelCallsAbout('Tell me all about returns')).toBe(1);

    const { questions, answers } = await storedTurn(conversationId, clientMessageId);
    expect(questions).toHaveLength(1);
    expect(answers.map((a) => a.status)).toEqual(['complete']);
  });
});
