import { describe, expect, it } from 'vitest';
import { expectStrandedThenAnsweredOnce, streamUntilCheckpointed } from './support/stranded-answer.js';
import { setupModelFault } from './support/shop-fault.js';
import { longReply } from './support/wisp-server.js';
import { restartAfterKill } from './support/webhook-fault.js';

const REPLY = longReply(400);

describe('kill -9 of the embedded database while an answer streams', () => {
  // The server drains streams for this long before exiting after the database died.
  const fault = setupModelFault({ SHUTDOWN_GRACE_MS: '1000' });

  it('after a restart keeps the question once and the streamed text as a failed answer, and a retry answers it fully once', async () => {
    const { wisp, fake } = fault;
    await wisp.start();
    const chatbotId = await wisp.createBot('Database crash');
    const turn = { chatbotId, message: 'tell me everything', sessionId: 'db-crash', clientMessageId: 'db-crash-1' };
    // Killed only once part of the answer is sent and checkpointed.
    const { reader, conversationId, checkpointedChars } = await streamUntilCheckpointed({
      wisp,
      fake,
      turn,
      reply: REPLY,
    });
    // The server says so and exits non-zero; the client's stream ends (with an error event or cut).
    const database = wisp.databasePid();
    process.kill(database, 'SIGKILL');
    expect((await wisp.process!.exit(60_000)).code).toBe(1);
    expect(wisp.process!.stdout).toMatch(/"level":60,.*"msg":"The embedded database process exited unexpectedly/);
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
