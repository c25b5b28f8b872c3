import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../server/test/fake-llm/fake-llm.server.js';
import type { SseEvent } from '../server/test/sse.js';
import { longReply, WispServer } from './support/wisp-server.js';

const REPLY = longReply(30);
const MAX_RETRIES = 2;

interface ChatData {
  response: string;
  conversationId: string;
  messageId: string;
}

function errorOf(events: SseEvent[]): { name: string; message: string } | undefined {
  const event = events.find((e) => typeof e === 'object' && 'error' in e);
  return (event as { error: { name: string; message: string } } | undefined)?.error;
}

describe('the model failing while a server process answers', () => {
  let fake: FakeLlm;
  let wisp: WispServer;
  let chatbotId: string;

  const modelCalls = () => fake.calls.filter((c) => c.path === '/v1/chat/completions').length;

  beforeAll(async () => {
    fake = await startFakeLlm();
    wisp = new WispServer({
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'test',
      OPENAI_MODEL: 'fake-chat',
      // Short, so a stalled stream is given up quickly; the timeout itself is what is tested.
      MODEL_TIMEOUT_MS: '1500',
      MODEL_MAX_RETRIES: String(MAX_RETRIES),
      MODEL_RETRY_BACKOFF_MS: '10',
    });
    await wisp.start();
    chatbotId = await wisp.createBot('Flaky model');
  }, 120_000);
  beforeEach(() => {
    fake.reset();
    fake.setReply(REPLY);
  });
  afterAll(async () => {
    await wisp.dispose();
    await fake.stop();
  });

  /** Streams a turn that breaks, then checks what is stored and that a retry answers it once. */
  async function breakThenRetry(sessionId: string, expectedMessage: RegExp): Promise<void> {
    const turn = { chatbotId, message: `question ${sessionId}`, sessionId, clientMessageId: `${sessionId}-1` };
    const reader = await wisp.stream(turn);
    const events = await reader.rest();
    expect(reader.chunks).toHaveLength(3);
    expect(errorOf(events)).toMatchObject({
      name: 'UnavailableError',
      message: expect.stringMatching(expectedMessage),
    });
    expect(events.some((e) => typeof e === 'object' && e.done === true)).toBe(false);

    const conversationId = (await wisp.conversationOf(sessionId))!;
    const stored = await wisp.messages(conversationId);
    expect(stored.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'failed'],
    ]);
    expect(stored[1]!.content).toBe(reader.chunks.join(''));
    expect(REPLY.startsWith(stored[1]!.content)).toBe(true);

    const calls = modelCalls();
    const retry = await wisp.api.post<ChatData>('/api/v1/chat', turn);
    expect(retry.status).toBe(200);
    expect(retry.body.data.messageId).toBe(stored[1]!.id);
    expect(retry.body.data.response.startsWith(REPLY)).toBe(true);
    expect(modelCalls()).toBe(calls + 1);
    const after = await wisp.messages(conversationId);
    expect(after.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
    expect(after[1]!.content).toBe(retry.body.data.response);
  }

  it('when the connection to the model resets mid-answer, stores the partial answer failed and a retry answers it', async () => {
    fake.dieMidStream(3);
    await breakThenRetry('reset', /language model is unavailable .*failed mid-answer.*retry shortly/);
  });

  it('when the model goes silent mid-answer, gives up after MODEL_TIMEOUT_MS, stores the partial answer failed and a retry answers it', async () => {
    fake.stallMidStream(3);
    await breakThenRetry('stall', /language model is unavailable .*stopped sending.*retry shortly/);
  });

  it('retries a model answering 429 before the first token, up to MODEL_MAX_RETRIES', async () => {
    fake.failNext(MAX_RETRIES, 429);
    const ok = await wisp.api.post<ChatData>('/api/v1/chat', { chatbotId, message: 'busy model', sessionId: 'rate' });
    expect(ok.status).toBe(200);
    expect(ok.body.data.response.startsWith(REPLY)).toBe(true);
    expect(modelCalls()).toBe(MAX_RETRIES + 1);
  });

  it('when the model answers 429 past MODEL_MAX_RETRIES, answers 503, keeps the message, and a retry answers it', async () => {
    fake.failNext(MAX_RETRIES + 1, 429);
    const turn = { chatbotId, message: 'very busy model', sessionId: 'rate-out', clientMessageId: 'rate-out-1' };
    const refused = await wisp.api.post<ChatData>('/api/v1/chat', turn);
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatchObject({
      name: 'UnavailableError',
      message: expect.stringMatching(/answered 429 after 3 attempt\(s\).*your message was kept/),
    });
    expect(modelCalls()).toBe(MAX_RETRIES + 1);

    const retry = await wisp.api.post<ChatData>('/api/v1/chat', turn);
    expect(retry.status).toBe(200);
    const stored = await wisp.messages(retry.body.data.conversationId);
    expect(stored.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
  });
});
