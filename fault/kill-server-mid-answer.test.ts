import { describe, expect, it } from 'vitest';
import { expectStrandedThenAnsweredOnce, streamUntilCheckpointed } from './support/stranded-answer.js';
import { killAndRestart, setupModelFault } from './support/shop-fault.js';
import { longReply } from './support/wisp-server.js';

const REPLY = longReply(400);

describe('kill -9 of the server while an answer streams', () => {
  const fault = setupModelFault();

  it('keeps the question once and the streamed text as a failed answer, and a retry answers it fully once', async () => {
    const { wisp, fake } = fault;
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
    let received = 0;
    await killAndRestart(fault, async () => {
      received = (await reader.rest()).length;
    });
    expect(received).toBeGreaterThan(0);

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
