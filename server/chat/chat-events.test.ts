import { Types } from 'mongoose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DomainEvent, DomainEvents, DomainEventType } from '../events/domain-events.js';
import type { FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startFakeModelBot, type FakeModelBot, type TestApp, type TestOrg } from '../test/test-app.js';

interface ChatData {
  conversationId: string;
  messageId: string;
  userMessageId: string;
}

const TURN_EVENTS: DomainEventType[] = [
  'conversation.created',
  'message.received',
  'answer.completed',
  'answer.failed',
  'integration.failed',
];

describe('the events a chat turn announces', () => {
  let running: FakeModelBot;
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;
  let botId: string;
  let seen: DomainEvent[] = [];

  beforeAll(async () => {
    running = await startFakeModelBot({
      env: { MODEL_RETRY_BACKOFF_MS: '10', MODEL_MAX_RETRIES: '1', MODEL_TIMEOUT_MS: '5000' },
      bot: { name: 'Announcer' },
    });
    ({ fake, t, org, botId } = running);
    for (const type of TURN_EVENTS)
      t.app.services.events.subscribe(type, (payload) => void seen.push({ type, payload } as DomainEvent));
  });
  beforeEach(() => {
    fake.reset();
    seen = [];
  });
  afterAll(() => running.stop());

  const chat = (body: Record<string, unknown>) => org.api.post<ChatData>('/api/v1/chat', { chatbotId: botId, ...body });
  /** The events seen for one conversation, once the turn's subscribers have all run. */
  const eventsOf = async (conversationId: string) => {
    await t.app.services.events.settled();
    return seen.filter(({ payload }) => 'conversationId' in payload && payload.conversationId === conversationId);
  };

  it('publishes conversation.created on the first turn only, then message.received and answer.completed with the stored ids', async () => {
    const first = await chat({ message: 'Where is my parcel?', sessionId: 'events-1' });
    expect(first.status).toBe(200);
    const { conversationId, userMessageId, messageId } = first.body.data;
    const ids = { organizationId: org.id, chatbotId: botId, conversationId, channel: 'api' };
    const firstEvents = await eventsOf(conversationId);
    expect(firstEvents.map((event) => event.type)).toEqual([
      'conversation.created',
      'message.received',
      'answer.completed',
    ]);
    expect(firstEvents[0]?.payload).toMatchObject({ ...ids, visitorId: null, userSub: null });
    expect(firstEvents[1]?.payload).toMatchObject({ ...ids, messageId: userMessageId, text: 'Where is my parcel?' });
    const stored = await t.app.models.Message.findById(messageId).lean();
    expect(stored?.firstTokenMs).toEqual(expect.any(Number));
    expect(stored?.durationMs).toBeGreaterThanOrEqual(stored?.firstTokenMs ?? 0);
    expect(firstEvents[2]?.payload).toMatchObject({
      ...ids,
      messageId,
      questionMessageId: userMessageId,
      questionText: 'Where is my parcel?',
      text: 'Echo: Where is my parcel?',
      model: 'fake-chat',
      answered: false,
      citations: [],
      firstTokenMs: stored?.firstTokenMs,
      durationMs: stored?.durationMs,
    });
    for (const { payload } of firstEvents) expect(new Date(payload.occurredAt).toISOString()).toBe(payload.occurredAt);

    const second = await chat({ message: 'And my refund?', conversationId });
    expect(second.status).toBe(200);
    expect((await eventsOf(conversationId)).map((event) => event.type)).toEqual([
      'conversation.created',
      'message.received',
      'answer.completed',
      'message.received',
      'answer.completed',
    ]);
  });

  it('does not announce a retried message again', async () => {
    const body = { message: 'Once only', sessionId: 'events-retry', clientMessageId: 'events-retry-1' };
    const first = await chat(body);
    expect((await chat(body)).body.data.messageId).toBe(first.body.data.messageId);
    const types = (await eventsOf(first.body.data.conversationId)).map((event) => event.type);
    expect(types.filter((type) => type === 'message.received')).toHaveLength(1);
  });

  it('publishes answer.failed and integration.failed when the model connection gives up', async () => {
    fake.failAlways(503);
    const res = await chat({ message: 'Anyone there?', sessionId: 'events-down' });
    expect(res.status).toBe(503);
    await t.app.services.events.settled();
    const failed = seen.find((event) => event.type === 'answer.failed')?.payload;
    expect(failed).toMatchObject({ organizationId: org.id, chatbotId: botId, channel: 'api' });
    const stored = await t.app.models.Message.findById(failed && 'messageId' in failed ? failed.messageId : null);
    expect(stored?.status).toBe('failed');
    expect(seen.find((event) => event.type === 'integration.failed')?.payload).toMatchObject({
      organizationId: org.id,
      chatbotId: botId,
      integrationId: null,
      provider: new URL(fake.url).host,
      model: 'fake-chat',
      attempts: 2,
    });
  });

  it('answers even when a subscriber fails', async () => {
    const unsubscribe = t.app.services.events.subscribe('message.received', () => {
      throw new Error('subscriber down');
    });
    try {
      const res = await chat({ message: 'Still answered?', sessionId: 'events-broken-subscriber' });
      expect(res.status).toBe(200);
      expect((await eventsOf(res.body.data.conversationId)).map((event) => event.type)).toContain('answer.completed');
    } finally {
      unsubscribe();
    }
  });

  it('the gap log subscribes to answer.completed: it keeps the questions of gaps only', async () => {
    const res = await chat({ message: 'Do you rent kayaks?', sessionId: 'events-gap' });
    const completed = (await eventsOf(res.body.data.conversationId)).find(
      (event) => event.type === 'answer.completed',
    )?.payload;
    expect(completed).toMatchObject({ answered: false });
    await t.app.services.unanswered.recordGap({
      ...(completed as DomainEvents['answer.completed']),
      answered: true,
      questionText: 'Answered well',
    });
    const gaps = await t.app.services.unanswered.list(new Types.ObjectId(botId), 'open', 1, 100);
    expect(gaps.items.map((gap) => gap.question)).toContain('Do you rent kayaks?');
    expect(gaps.items.map((gap) => gap.question)).not.toContain('Answered well');
  });

  it('ends a refused turn with one error event instead of throwing, as after acceptance', async () => {
    const events = [];
    const turn = { organizationId: org.id, chatbot: 'no-such-bot', message: 'Hello?', channel: 'api' as const };
    for await (const event of t.app.services.chat.run(turn, new AbortController().signal)) events.push(event);
    expect(events).toEqual([
      {
        type: 'error',
        error: expect.objectContaining({ name: 'NotFoundError' }),
        conversationId: null,
        assistantMessageId: null,
      },
    ]);
  });
});
