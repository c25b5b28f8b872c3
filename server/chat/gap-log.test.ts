import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GapDto } from '../../shared/schemas/gap-log.js';
import { addSource, createBot, FAST_QUEUE_ENV, waitForSource } from '../knowledge/test/knowledge-client.js';
import { startFakeLlm, type FakeLlm } from '../test/fake-llm/fake-llm.server.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { connectWidget, send, type WidgetClient } from '../test/widget-client.js';
import type { MessageDto } from '../../shared/schemas/chat.js';

interface ChatData {
  response: string;
  confidence: number;
  finishReason: string;
  sources: Array<{ sourceId: string }>;
}

const SHIPPING = 'We ship to every country in the EU. Standard delivery takes three working days.';

describe('the gap log and answers the knowledge cannot give', () => {
  let t: TestApp;
  let org: TestOrg;
  let botId: string;
  let shippingId: string;

  beforeAll(async () => {
    t = await startTestApp({ env: FAST_QUEUE_ENV });
    org = await t.createOrg();
    botId = await createBot(org.api, 'Gaps');
    shippingId = (await addSource(org.api, botId, { type: 'text', title: 'Shipping', content: SHIPPING })).id;
    await waitForSource(org.api, shippingId);
  });
  afterAll(() => t.stop());

  // The gap log is written by a subscriber of `answer.completed`, after the answer is sent: wait for it.
  const ask = async (message: string) => {
    const res = await org.api.post<ChatData>(`/api/v1/chatbots/${botId}/chat`, { message });
    await t.app.services.events.settled();
    return res;
  };
  const gaps = (status = 'open') => org.api.get<GapDto[]>(`/api/v1/chatbots/${botId}/unanswered?status=${status}`);

  it('is confident about what the knowledge says and not about what it only touches', async () => {
    const answered = await ask('How long does standard delivery take?');
    expect(answered.body.data.confidence).toBeGreaterThanOrEqual(0.5);
    expect(answered.body.data.sources[0]?.sourceId).toBe(shippingId);
    const onTopic = await ask('Do you ship refrigerated parcels to Iceland?');
    expect(onTopic.body.data.confidence).toBeLessThan(0.5);
  });

  it('logs real questions only, counting rewordings with the same words together', async () => {
    for (const message of ['Hello!', 'thanks', 'How are you?', 'Good morning']) await ask(message);
    await ask('Do you sell gift vouchers?');
    await ask('gift vouchers: do you sell them');
    const list = await gaps();
    expect(list.status).toBe(200);
    const questions = list.body.data.map((gap) => gap.question.toLowerCase());
    expect(questions.some((q) => /hello|thanks|how are you|morning/.test(q))).toBe(false);
    const vouchers = list.body.data.find((gap) => gap.question.includes('vouchers'));
    expect(vouchers).toMatchObject({ count: 2, status: 'open', resolvedAt: null, sourceId: null });
  });

  it('counts different gaps asked at once, and repeats among them, each under its own question', async () => {
    const questions = ['Do you repair bicycles?', 'Can I pay with a cheque?', 'Do you repair bicycles?'];
    const replies = await Promise.all(
      [...questions, 'Is there a loyalty card?', 'can I pay with a cheque'].map((message) =>
        org.api.post<ChatData>(`/api/v1/chatbots/${botId}/chat`, { message }),
      ),
    );
    expect(replies.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200]);
    await t.app.services.events.settled();
    const counts = Object.fromEntries(
      (await gaps()).body.data
        .filter((gap) => /bicycles|cheque|loyalty/.test(gap.question))
        .map((gap) => [
          gap.question.toLowerCase().includes('bicycles')
            ? 'bicycles'
            : gap.question.includes('cheque')
              ? 'cheque'
              : 'loyalty',
          gap.count,
        ]),
    );
    expect(counts).toEqual({ bicycles: 2, cheque: 2, loyalty: 1 });
  });

  it('marks a question resolved, lists it under resolved, and opens it again when it is asked unanswered', async () => {
    const gap = (await gaps()).body.data.find((g) => g.question.includes('vouchers'))!;
    const resolved = await org.api.post<GapDto>(`/api/v1/chatbots/${botId}/unanswered/${gap.id}/resolve`);
    expect(resolved.status).toBe(200);
    expect(resolved.body.data).toMatchObject({ id: gap.id, status: 'resolved', resolvedAt: expect.any(String) });
    expect((await gaps()).body.data.map((g) => g.id)).not.toContain(gap.id);
    expect((await gaps('resolved')).body.data.map((g) => g.id)).toContain(gap.id);
    await ask('Do you sell gift vouchers?');
    expect((await gaps()).body.data.find((g) => g.id === gap.id)).toMatchObject({ status: 'open', count: 3 });
  });

  it('answers a question into a new text source, after which the bot answers it with confidence', async () => {
    const gap = (await gaps()).body.data.find((g) => g.question.includes('vouchers'))!;
    const answered = await org.api.post<{ gap: GapDto; source: { id: string; title: string; type: string } }>(
      `/api/v1/chatbots/${botId}/unanswered/${gap.id}/answer`,
      { answer: 'Yes, gift vouchers from 10 to 200 euros are sold at every till and online.' },
    );
    expect(answered.status).toBe(201);
    expect(answered.body.data.source).toMatchObject({ type: 'text', title: gap.question });
    expect(answered.body.data.gap).toMatchObject({ status: 'resolved', sourceId: answered.body.data.source.id });
    expect((await waitForSource(org.api, answered.body.data.source.id)).status).toBe('ready');
    const again = await ask('Do you sell gift vouchers?');
    expect(again.body.data.sources[0]?.sourceId).toBe(answered.body.data.source.id);
    expect(again.body.data.confidence).toBeGreaterThanOrEqual(0.5);
    expect((await gaps()).body.data.map((g) => g.id)).not.toContain(gap.id);
  });

  it('refuses an unknown question id, an empty answer and unknown fields, saying what to fix', async () => {
    const missing = await org.api.post(`/api/v1/chatbots/${botId}/unanswered/${'a'.repeat(24)}/resolve`);
    expect(missing.status).toBe(404);
    expect(missing.body.error?.message).toMatch(/gap log/);
    const gap = (await gaps('all')).body.data[0]!;
    const empty = await org.api.post(`/api/v1/chatbots/${botId}/unanswered/${gap.id}/answer`, { answer: ' ' });
    expect(empty.status).toBe(422);
    const extra = await org.api.post(`/api/v1/chatbots/${botId}/unanswered/${gap.id}/answer`, {
      answer: 'Yes.',
      tags: ['x'],
    });
    expect(extra.status).toBe(422);
    expect(extra.body.error?.message).toMatch(/tags/);
    expect((await org.api.get(`/api/v1/chatbots/${botId}/unanswered?status=closed`)).status).toBe(422);
  });

  it('asks a widget visitor for an email with a notice the widget words, and API clients with a sentence', async () => {
    const patched = await org.api.patch(`/api/v1/chatbots/${botId}/widget-settings`, {
      leadCapture: { askEmailWhenUnanswered: true },
    });
    expect(patched.status).toBe(200);
    const { socket } = await connectWidget(t.url, { bot: botId });
    try {
      const done = new Promise<MessageDto>((resolve) => socket.once('chat:done', ({ message }) => resolve(message)));
      expect((await send(socket, 'Do you repair bicycles?')).data).toBeTruthy();
      const message = await done;
      expect(message.notice).toBe('ask_email');
      expect(message.content).not.toMatch(/email/i);
    } finally {
      socket.disconnect();
    }
    const api = await ask('Do you repair bicycles?');
    expect(api.body.data.response).toMatch(/leave your email address/);
  });
});

describe('answers when the model cannot give one', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let org: TestOrg;
  let botId: string;
  let socket: WidgetClient;

  beforeAll(async () => {
    fake = await startFakeLlm();
    t = await startTestApp({
      env: {
        ...FAST_QUEUE_ENV,
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: 'test',
        OPENAI_MODEL: 'fake-chat',
        MODEL_MAX_RETRIES: '1',
        MODEL_RETRY_BACKOFF_MS: '10',
      },
    });
    org = await t.createOrg();
    botId = await createBot(org.api, 'Fallback');
    const source = await addSource(org.api, botId, { type: 'text', title: 'Shipping', content: SHIPPING });
    await waitForSource(org.api, source.id);
    ({ socket } = await connectWidget(t.url, { bot: botId }));
  });
  afterAll(async () => {
    socket?.disconnect();
    await t.stop();
    await fake.stop();
  });

  it('gives a widget visitor the cited knowledge with a notice code, never the operator’s failure text', async () => {
    fake.failAlways(429);
    const done = new Promise<MessageDto>((resolve) => socket.once('chat:done', ({ message }) => resolve(message)));
    const errors: unknown[] = [];
    socket.on('chat:error', (error) => errors.push(error));
    expect((await send(socket, 'How long does standard delivery take?')).data).toBeTruthy();
    const message = await done;
    expect(message).toMatchObject({ status: 'complete', notice: 'knowledge_only' });
    expect(message.content).toMatch(/^\[1\] \*\*Shipping\*\*: .*three working days/);
    expect(message.content).not.toMatch(/provider|attempt|quota|429/i);
    expect(message.sources[0]?.title).toBe('Shipping');
    expect(errors).toEqual([]);
    const usage = await org.api.get<{ modelFailures: number }>('/api/v1/usage');
    expect(usage.body.data.modelFailures).toBeGreaterThanOrEqual(1);
    // API clients, who may act on it, still get the 503 with the operator's detail.
    const api = await org.api.post(`/api/v1/chatbots/${botId}/chat`, { message: 'How long does delivery take?' });
    expect(api.status).toBe(503);
    expect(api.body.error?.message).toMatch(/attempt/);
  });

  it('takes the model saying it does not know as a low confidence, and logs the question', async () => {
    fake.reset();
    fake.setReply("I'm sorry, I don't know whether standard delivery reaches Iceland.");
    const res = await org.api.post<ChatData>(`/api/v1/chatbots/${botId}/chat`, {
      message: 'Does standard delivery reach Iceland?',
    });
    expect(res.body.data.confidence).toBeLessThan(0.5);
    // Written by a subscriber of `answer.completed`, after the answer is sent: wait for it.
    await t.app.services.events.settled();
    const gaps = await org.api.get<GapDto[]>(`/api/v1/chatbots/${botId}/unanswered`);
    expect(gaps.body.data.map((gap) => gap.question)).toContain('Does standard delivery reach Iceland?');
  });
});
