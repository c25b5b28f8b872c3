import type { AnswerMessages } from '../conversations/answer-messages.js';
import type { DomainEvents } from '../events/domain-events.js';
import type { Logger } from '../logger.js';
import type { LeadsService } from './leads.service.js';

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/;

/**
 * Subscriber of `message.received`: when the bot's previous answer asked for an email (the owner's
 * `askEmailWhenUnanswered`) and the visitor's message carries one, it becomes a lead of the conversation.
 */
export class ChatEmailCapture {
  constructor(
    private readonly deps: {
      answers: Pick<AnswerMessages, 'previousAnswer'>;
      leads: Pick<LeadsService, 'submit'>;
      logger: Logger;
    },
  ) {}

  async onMessageReceived(event: DomainEvents['message.received']): Promise<void> {
    const email = EMAIL.exec(event.text)?.[0];
    if (!email) return;
    const previous = await this.deps.answers.previousAnswer(event.conversationId, event.messageId);
    if (!previous?.askedForEmail) return;
    await this.deps.leads
      .submit({
        organizationId: event.organizationId,
        chatbotId: event.chatbotId,
        visitorId: event.visitorId ?? `conversation:${event.conversationId}`,
        conversationId: event.conversationId,
        fields: { email },
        source: 'conversation',
      })
      // Refusals (the owner turned capture off meanwhile, an address the form would refuse) are expected.
      .catch((error: unknown) =>
        this.deps.logger.warn({ err: error }, 'could not save the email a visitor gave in chat'),
      );
  }
}
