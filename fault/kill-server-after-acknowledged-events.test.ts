import { describe, expect, it } from 'vitest';
import type { ReceivedWebhook } from '../server/test/webhook-receiver.js';
import { restartAfterKill, setupWebhookFault, subscribeReceiver } from './support/webhook-fault.js';
import { waitFor } from './support/wisp-server.js';

const FEEDBACK_BURST = 30;

interface ChatData {
  conversationId: string;
  messageId: string;
  userMessageId: string;
}

/** The events of one type whose data field `field` is `value`. */
function eventsOf(received: ReceivedWebhook[], type: string, field: string, value: string): ReceivedWebhook[] {
  return received.filter((request) => request.verified?.type === type && request.verified.data[field] === value);
}

describe('kill -9 of the server right after it acknowledged the writes that cause webhook events', () => {
  const fault = setupWebhookFault({
    // The burst is one client's: the per-key limits would answer part of it 429.
    RATE_LIMIT_FREE_PER_MINUTE: '0',
    RATE_LIMIT_FREE_PER_SECOND: '0',
  });

  it('delivers after the restart every event of a chat turn and of a feedback burst it acknowledged', async () => {
    const { wisp, receiver } = fault;
    await wisp.start();
    const chatbotId = await wisp.createBot('Acknowledged');
    await subscribeReceiver(fault, [
      'conversation.created',
      'message.received',
      'answer.completed',
      'message.feedback',
    ]);

    const chat = await wisp.api.post<ChatData>('/api/v1/chat', { chatbotId, message: 'is anyone there?' });
    expect(chat.status).toBe(200);
    const { conversationId, messageId, userMessageId } = chat.body.data;

    // Each rating carries its own comment, so every acknowledged one can be found among the deliveries.
    const comments = Array.from({ length: FEEDBACK_BURST }, (_, i) => `rating ${i}`);
    let acknowledged = 0;
    const killed = new Promise<void>((resolve) => {
      for (const [i, comment] of comments.entries()) {
        void wisp.api
          .post(`/api/v1/messages/${messageId}/feedback`, { rating: i % 2 === 0 ? 'up' : 'down', comment })
          .then((res) => {
            expect(res.status).toBe(200);
            acknowledged += 1;
            // Killed the moment the last acknowledgement arrives: the outbox work after it gets no time.
            if (acknowledged === FEEDBACK_BURST) {
              wisp.process!.child.kill('SIGKILL');
              resolve();
            }
          });
      }
    });
    const database = wisp.databasePid();
    await killed;
    await restartAfterKill(wisp, database);

    // An outbox row whose fan-out the kill cut is completed by the fan-out worker about 30 s after it was written.
    const missing = () => [
      ...(eventsOf(receiver.received, 'conversation.created', 'conversationId', conversationId).length
        ? []
        : ['conversation.created']),
      ...(eventsOf(receiver.received, 'message.received', 'messageId', userMessageId).length
        ? []
        : ['message.received']),
      ...(eventsOf(receiver.received, 'answer.completed', 'messageId', messageId).length ? [] : ['answer.completed']),
      ...comments.filter((comment) => !eventsOf(receiver.received, 'message.feedback', 'comment', comment).length),
    ];
    await waitFor(
      async () => missing(),
      (left) => left.length === 0,
      120_000,
    );
    expect(receiver.received.every((request) => request.verifyError === null)).toBe(true);
    // Two cold starts of the server and its database take most of this on a busy machine.
  }, 240_000);
});
