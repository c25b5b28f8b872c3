/**
 * What happened in the domain, published by the capability that owns it. Subscribers (leads, the gap log,
 * later webhooks and analytics) are wired in the composition root, so a publisher never imports a subscriber.
 */
export interface DomainEvents {
  /** A bot is being deleted: each capability deletes what it owns of it before the bot itself goes. */
  'chatbot.deleted': { organizationId: string; chatbotId: string };
  /**
   * Records of a conversation were written or changed (the conversation, messages, answers, feedback); `times`
   * are the creation times of those records, which is what analytics rolls up by.
   */
  'conversation.changed': { organizationId: string; chatbotId: string; conversationId: string; times: Date[] };
  /** A conversation and its messages were deleted; they were created between `from` and `to`. */
  'conversation.deleted': { organizationId: string; chatbotId: string; conversationId: string; from: Date; to: Date };
}

export type DomainEventType = keyof DomainEvents;
export type DomainEvent = { [K in DomainEventType]: { type: K } & DomainEvents[K] }[DomainEventType];
type Handler<K extends DomainEventType> = (event: { type: K } & DomainEvents[K]) => Promise<void> | void;

/**
 * One in-process event bus. `publish` runs every handler and resolves once all have finished, so a publisher
 * that awaits it knows the consequences are in place (e.g. a deleted bot's data is gone); if any handler
 * failed, it rejects with the first failure after the others have run. Publishers that must not fail on a
 * subscriber's error catch and log.
 */
export class DomainEventBus {
  private readonly handlers = new Map<DomainEventType, Array<Handler<never>>>();

  subscribe<K extends DomainEventType>(type: K, handler: Handler<K>): () => void {
    const list = this.handlers.get(type) ?? [];
    list.push(handler as Handler<never>);
    this.handlers.set(type, list);
    return () => {
      const at = list.indexOf(handler as Handler<never>);
      if (at >= 0) list.splice(at, 1);
    };
  }

  async publish<K extends DomainEventType>(type: K, payload: DomainEvents[K]): Promise<void> {
    const event = { type, ...payload } as never;
    const results = await Promise.allSettled(
      [...(this.handlers.get(type) ?? [])].map(async (handler) => (handler as Handler<K>)(event)),
    );
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/** What a capability needs to announce events, without seeing who listens. */
export type EventPublisher = Pick<DomainEventBus, 'publish'>;
