import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import { expect } from 'vitest';
import type { MessageDto } from '../../shared/schemas/chat.js';
import type { WidgetClient } from '../../server/test/widget-client.js';
import { waitFor, type WispServer } from './wisp-server.js';

/**
 * One visitor of the bot `bot`, as the widget keeps it: each `connect` opens a socket to the server at its address
 * of the moment (so also after a restart) carrying the visitor token of the last session, and resolves once the
 * session is given. Every socket is pushed to `clients` for the test to disconnect.
 */
export function widgetVisitor(
  wisp: WispServer,
  bot: string,
  clients: WidgetClient[],
): { connect(): Promise<WidgetClient> } {
  const visitor: { visitorId: string; visitorToken?: string } = { visitorId: `v_${randomUUID()}` };
  return {
    connect: async () => {
      const client: WidgetClient = io(`${wisp.url}/widget`, {
        transports: ['websocket'],
        auth: (cb) => cb({ bot, ...visitor }),
        reconnection: false,
      });
      clients.push(client);
      await new Promise<void>((resolve) =>
        client.once('session', (session) => {
          visitor.visitorToken = session.visitorToken;
          resolve();
        }),
      );
      return client;
    },
  };
}

/** Resolves with the next answer the server finishes on `client` (its `chat:done`). */
export function nextDone(client: WidgetClient): Promise<MessageDto> {
  return new Promise((resolve) => client.once('chat:done', ({ message }) => resolve(message)));
}

/**
 * Sends `text`, which makes the bot call `cancel_order`, in a new conversation; resolves with the answer once it
 * is paused on the visitor's confirmation of that action.
 */
export async function askUntilPaused(client: WidgetClient, text: string, clientMessageId: string): Promise<MessageDto> {
  const paused = nextDone(client);
  const sent = await client.emitWithAck('chat:send', { text, clientMessageId, conversationId: null });
  expect(sent.error).toBeUndefined();
  const question = await paused;
  expect(question.pendingAction).toMatchObject({ action: 'cancel_order' });
  return question;
}

/**
 * After a restart mid-confirmation: connects again and presses the same decision (`approve`) on the paused answer
 * until the restarted server has swept the cut answer (no more UnavailableError); checks the ack reads `status`
 * and the follow-up arrives complete, naming `status`.
 */
export async function pressAgainAfterRestart(
  visitor: { connect(): Promise<WidgetClient> },
  messageId: string,
  approve: boolean,
  status: 'succeeded' | 'declined',
): Promise<void> {
  const client = await visitor.connect();
  const followUp = nextDone(client);
  const again = await waitFor(
    () => client.timeout(10_000).emitWithAck('chat:confirm', { messageId, approve }),
    (ack) => ack.error?.name !== 'UnavailableError',
    60_000,
  );
  expect(again.data).toEqual({ messageId, status });
  const answer = await followUp;
  expect(answer).toMatchObject({ id: messageId, status: 'complete' });
  expect(answer.content).toContain(status);
}
