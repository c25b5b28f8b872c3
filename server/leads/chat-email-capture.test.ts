import { describe, expect, it } from 'vitest';
import type { DomainEvents } from '../events/domain-events.js';
import { createLogger } from '../logger.js';
import type { LeadSubmission } from './leads.service.js';
import { ChatEmailCapture } from './chat-email-capture.js';

const received = (text: string, visitorId: string | null = 'visitor-1'): DomainEvents['message.received'] => ({
  organizationId: 'org-1',
  chatbotId: 'bot-1',
  conversationId: 'conv-1',
  messageId: 'msg-2',
  channel: 'widget',
  text,
  visitorId,
  occurredAt: new Date().toISOString(),
});

/** The capture over stand-ins that record what it asked for. */
function captureWith(previous: { askedForEmail: boolean } | null, submitError: Error | null = null) {
  const lookups: string[][] = [];
  const submitted: LeadSubmission[] = [];
  const capture = new ChatEmailCapture({
    answers: {
      previousAnswer: async (conversationId: string, messageId: string) => {
        lookups.push([conversationId, messageId]);
        return previous as never;
      },
    },
    leads: {
      submit: async (input: LeadSubmission) => {
        submitted.push(input);
        if (submitError) throw submitError;
        return { leadId: 'lead-1' };
      },
    },
    logger: createLogger('silent'),
  });
  return { capture, lookups, submitted };
}

describe('the lead capture from chat (subscriber of message.received)', () => {
  it('turns an email given after the bot asked for one into a lead of the conversation', async () => {
    const { capture, lookups, submitted } = captureWith({ askedForEmail: true });
    await capture.onMessageReceived(received('Sure, it is ada@example.com thanks'));
    expect(lookups).toEqual([['conv-1', 'msg-2']]);
    expect(submitted).toEqual([
      {
        organizationId: 'org-1',
        chatbotId: 'bot-1',
        visitorId: 'visitor-1',
        conversationId: 'conv-1',
        fields: { email: 'ada@example.com' },
        source: 'conversation',
      },
    ]);
  });

  it('names an API conversation without a visitor by the conversation', async () => {
    const { capture, submitted } = captureWith({ askedForEmail: true });
    await capture.onMessageReceived(received('ada@example.com', null));
    expect(submitted[0]?.visitorId).toBe('conversation:conv-1');
  });

  it('ignores messages without an email, and emails the bot did not ask for', async () => {
    const noEmail = captureWith({ askedForEmail: true });
    await noEmail.capture.onMessageReceived(received('no address here'));
    expect(noEmail.lookups).toEqual([]);
    const notAsked = captureWith({ askedForEmail: false });
    await notAsked.capture.onMessageReceived(received('ada@example.com'));
    const firstMessage = captureWith(null);
    await firstMessage.capture.onMessageReceived(received('ada@example.com'));
    expect([...notAsked.submitted, ...firstMessage.submitted]).toEqual([]);
  });

  it('does not fail when the lead is refused (capture turned off meanwhile)', async () => {
    const { capture, submitted } = captureWith(
      { askedForEmail: true },
      new Error('This bot does not collect visitor details'),
    );
    await expect(capture.onMessageReceived(received('ada@example.com'))).resolves.toBeUndefined();
    expect(submitted).toHaveLength(1);
  });
});
