import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../server/test/fake-llm/fake-llm.server.js';
import { expectStrandedThenAnsweredOnce, streamUntilCheckpointed } from './support/stranded-answer.js';
import { longReply, WispServer } from './support/wisp-server.js';
import { restartAfterKill } from './support/webhook-fault.js';

const REPLY = longReply(400);

describe('kill -9 of the server while an answer streams', () => {
  let fake: FakeLlm;
  let wisp: WispServer;

  beforeAll(async () => {
    fake = await startFakeLlm();
    wisp = new WispServer({
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'test',
      OPENAI_MODEL: 'fake-chat',
      ANSWER_LEASE_MS: '2000',
    });
  });
  afterAll(async () => {
    await wisp.dispose();
    await fake.stop();
  });

  it('keeps the question once and the streamed text as a failed answer, and a retry answers it fully once', async () => {
    await wisp.start();
    const chatbotId = await wisp.createBot('Crash');
    const turn = { chatbotId, message: 'tell me everything', sessionId: 'crash', clientMessageId: 'crash-1' };
    // Killed only once part of the answer is sent and checkpointed.
    const { reader, conversationId, checkpointedChars } = await streamUntilCheckpointed({
      wisp,
      fake,
      turn,
      reply: REPLY,
    });
    const database = wisp.databasePid();
    wisp.process!.child.kill('SIGKILL');
    const received = (await reader.rest()).length;
    expect(received).toBeGreaterThan(0);

    await restartAfterKill(wisp, database);
    await expectStrandedThenAnsweredOnce({
      wisp,
      fake,
      conversationId,
      turn,
      reply: REPLY,
      checkpointedChars,
    });
    // Two cold starts of the server and its database take most of this on a busy machine.
  }, 240_000);
});
