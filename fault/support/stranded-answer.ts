import { expect } from 'vitest';
import type { FakeLlm } from '../../server/test/fake-llm/fake-llm.server.js';
import { waitFor, type WispServer } from './wisp-server.js';

type Reader = Awaited<ReturnType<WispServer['stream']>>;

export interface StrandedTurn extends Record<string, unknown> {
  chatbotId: string;
  message: string;
  sessionId: string;
  clientMessageId: string;
}

/**
 * After a crash mid-answer and a restart: the question is stored once, the answer is failed with
 * at least the checkpointed part of `reply`; a retry with the same clientMessageId answers it
 * fully with one more model call, and a second retry replays it without one.
 */
export async function expectStrandedThenAnsweredOnce(options: {
  wisp: WispServer;
  fake: FakeLlm;
  conversationId: string;
  turn: StrandedTurn;
  reply: string;
  checkpointedChars: number;
}): Promise<void> {
  const { wisp, fake, conversationId, turn, reply } = options;
  const stranded = await waitFor(
    () => wisp.messages(conversationId),
    (messages) => messages[1]?.status !== 'pending',
  );
  expect(stranded.map((m) => [m.role, m.status])).toEqual([
    ['user', 'complete'],
    ['assistant', 'failed'],
  ]);
  expect(stranded[0]).toMatchObject({ content: turn.message, clientMessageId: turn.clientMessageId });
  const partial = stranded[1]!.content;
  expect(partial.length).toBeGreaterThanOrEqual(options.checkpointedChars);
  expect(partial.length).toBeLessThan(reply.length);
  expect(reply.startsWith(partial)).toBe(true);

  fake.setLatency(0, 0);
  const modelCalls = () => fake.calls.filter((c) => c.path === '/v1/chat/completions').length;
  const callsBefore = modelCalls();
  const retry = await wisp.api.post<{ response: string; conversationId: string; messageId: string }>(
    '/api/v1/chat',
    turn,
  );
  expect(retry.status).toBe(200);
  expect(retry.body.data.conversationId).toBe(conversationId);
  expect(retry.body.data.messageId).toBe(stranded[1]!.id);
  expect(retry.body.data.response.startsWith(reply)).toBe(true);
  expect(modelCalls()).toBe(callsBefore + 1);

  const after = await wisp.messages(conversationId);
  expect(after.map((m) => [m.role, m.status])).toEqual([
    ['user', 'complete'],
    ['assistant', 'complete'],
  ]);
  expect(after[1]!.content).toBe(retry.body.data.response);

  // A second retry replays the stored answer without asking the model again.
  const replay = await wisp.api.post<{ response: string }>('/api/v1/chat', turn);
  expect(replay.body.data.response).toBe(retry.body.data.response);
  expect(modelCalls()).toBe(callsBefore + 1);
  expect(await wisp.messages(conversationId)).toHaveLength(2);
}

/**
 * Starts a slow streamed answer to `turn` and returns once part of it is both sent to the client
 * and checkpointed in the database: the moment a crash test kills something.
 */
export async function streamUntilCheckpointed(options: {
  wisp: WispServer;
  fake: FakeLlm;
  turn: StrandedTurn;
  reply: string;
}): Promise<{ reader: Reader; conversationId: string; checkpointedChars: number }> {
  const { wisp, fake, turn } = options;
  fake.setReply(options.reply);
  fake.setLatency(0, 40);
  const reader = await wisp.stream(turn);
  await reader.untilChunks(10);
  const conversationId = (await wisp.conversationOf(turn.sessionId))!;
  const checkpointed = await waitFor(
    () => wisp.messages(conversationId),
    (messages) => (messages[1]?.content.length ?? 0) > 0,
  );
  expect(checkpointed[1]!.status).toBe('pending');
  return { reader, conversationId, checkpointedChars: checkpointed[1]!.content.length };
}
