import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageDto } from '../shared/schemas/chat.js';
import type { WidgetClientEvents, WidgetServerEvents } from '../shared/socket-events.js';
import { startFakeLlm, type FakeLlm } from '../server/test/fake-llm/fake-llm.server.js';
import { freePort } from '../server/test/redis-server.js';
import { longReply, waitFor, WispServer } from './support/wisp-server.js';
import { killAndRestart } from './support/shop-fault.js';

type Client = Socket<WidgetServerEvents, WidgetClientEvents>;
const REPLY = longReply(300);

describe('a widget socket across kill -9 and restart of the server mid-answer', () => {
  let fake: FakeLlm;
  let wisp: WispServer;
  let client: Client | null = null;

  beforeAll(async () => {
    fake = await startFakeLlm();
    wisp = new WispServer({
      // A fixed port, so the restarted server listens where the widget reconnects to.
      PORT: String(await freePort()),
      OPENAI_BASE_URL: fake.url,
      OPENAI_API_KEY: 'test',
      OPENAI_MODEL: 'fake-chat',
      ANSWER_LEASE_MS: '2000',
    });
  });
  afterAll(async () => {
    client?.disconnect();
    await wisp.dispose();
    await fake.stop();
  });

  it('reconnects by itself, finds the cut answer failed with its text, and its retry answers it once', async () => {
    await wisp.start();
    await wisp.createBot('Restart');
    const slug = 'restart';
    fake.setReply(REPLY);
    fake.setLatency(0, 40);

    // Like the widget: the handshake carries the visitor token from the last session.
    const visitor: { visitorId: string; visitorToken?: string } = { visitorId: `v_${randomUUID()}` };
    const sessions: string[] = [];
    const chunks: string[] = [];
    let disconnected = false;
    client = io(`${wisp.url}/widget`, {
      transports: ['websocket'],
      auth: (cb) => cb({ bot: slug, ...visitor }),
      reconnectionDelay: 200,
      reconnectionDelayMax: 1_000,
    });
    client.on('session', (session) => {
      visitor.visitorToken = session.visitorToken;
      sessions.push(session.visitorId);
    });
    client.on('chat:chunk', (chunk) => chunks.push(chunk.text));
    client.on('disconnect', () => (disconnected = true));
    await waitFor(
      async () => sessions.length,
      (n) => n === 1,
    );

    const send = { text: 'tell me everything', clientMessageId: 'widget-1', conversationId: null };
    const accepted = await client.emitWithAck('chat:send', send);
    expect(accepted.error).toBeUndefined();
    const { conversationId, assistantMessageId } = accepted.data!;
    const history = async () => {
      const reply = await client!.timeout(10_000).emitWithAck('chat:history', { conversationId });
      expect(reply.error).toBeUndefined();
      return reply.data!.messages as MessageDto[];
    };

    await waitFor(
      async () => chunks.length,
      (n) => n >= 10,
    );
    await waitFor(history, (messages) => (messages[1]?.content.length ?? 0) > 0);
    await killAndRestart({ wisp, fake }, () =>
      waitFor(
        async () => disconnected,
        (gone) => gone,
      ),
    );
    await waitFor(
      async () => sessions.length,
      (n) => n === 2,
      60_000,
    );
    expect(sessions[1]).toBe(visitor.visitorId);
    const cut = await waitFor(history, (messages) => messages[1]?.status !== 'pending');
    expect(cut.map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'failed'],
    ]);
    expect(cut[1]!.id).toBe(assistantMessageId);
    expect(REPLY.startsWith(cut[1]!.content)).toBe(true);
    expect(cut[1]!.content.length).toBeGreaterThan(0);

    // What the widget's Retry sends: the same clientMessageId, in the conversation it now has.
    fake.setLatency(0, 0);
    const done = new Promise<MessageDto>((resolve) => client!.once('chat:done', ({ message }) => resolve(message)));
    const retried = await client.emitWithAck('chat:send', { ...send, conversationId });
    expect(retried.data).toMatchObject({ conversationId, assistantMessageId, duplicate: false });
    const answer = await done;
    expect(answer.status).toBe('complete');
    expect(answer.content.startsWith(REPLY)).toBe(true);
    expect((await history()).map((m) => [m.role, m.status])).toEqual([
      ['user', 'complete'],
      ['assistant', 'complete'],
    ]);
  }, 240_000);
});
