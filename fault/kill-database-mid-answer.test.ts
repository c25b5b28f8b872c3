import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../server/test/fake-llm/fake-llm.server.js';
import { expectStrandedThenAnsweredOnce, streamUntilCheckpointed } from './support/stranded-answer.js';
import { longReply, WispServer } from './support/wisp-server.js';
import { restartAfterKill } from './support/webhook-fault.js';

const REPLY = longReply(400);

describe('kill -9 of the embedded database while an answer streams', () => {
  let fake: FakeLlm;
  let wisp: WispServer;

  beforeAll(async () => {
    fake = await startFakeLlm();
    wisp = new WispServer({
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'test',
      OPENAI_MODEL: 'fake-chat',
      ANSWER_LEASE_MS: '2000',
      // The server drains streams for this long before exiting after the database died.
      SHUTDOWN_GRACE_MS: '1000',
    });
  });
  afterAll(async () => {
    await wisp.dispose();
    await fake.stop();
  });

  it('after a restart keeps the question once and the streamed text as a failed answer, and a retry answers it fully once', async () => {
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
