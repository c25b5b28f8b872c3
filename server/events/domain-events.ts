/**
 * What happened in the domain, published by the capability that owns it. Subscribers (leads, the gap log,
 * later webhooks and analytics) are wired in the composition root, so a publisher never imports a subscriber.
 *
 * This catalogue is a contract: webhooks and analytics are built on these names and payloads. Never rename an
 * event or a field, never change a field's type; new fields are added as optional. Payloads are plain JSON:
 * ids are strings, dates are ISO 8601 strings. Every payload carries the organization, the bot when the event
 * has one, and `occurredAt` (stamped by the bus when the publisher leaves it out).
 */

/** What every event carries. */
export interface EventContext {
  organizationId: string;
  /** When it happened (ISO 8601). */
  occurredAt: string;
}

/** Where a conversation takes place: `widget`, `api`, or a channel added later (so consumers keep a default). */
export type Channel = 'widget' | 'api' | (string & Record<never, never>);

/** One knowledge source an answer relied on. */
export interface EventCitation {
  sourceId: string;
  title: string;
  url: string | null;
}

export interface DomainEvents {
  /** A bot is being deleted: each capability deletes what it owns of it before the bot itself goes. */
  'chatbot.deleted': EventContext & { chatbotId: string };

  /** A conversation was started by its first message. */
  'conversation.created': EventContext & {
    chatbotId: string;
    conversationId: string;
    channel: Channel;
    /** The widget visitor, or null outside the widget. */
    visitorId: string | null;
    /** The identified end user's id (the `sub` of their token), or null when anonymous. */
    userSub: string | null;
  };

  /** An end user's message was stored (once per message: a retried send does not publish it again). */
  'message.received': EventContext & {
    chatbotId: string;
    conversationId: string;
    messageId: string;
    channel: Channel;
    text: string;
    visitorId: string | null;
  };

  /** An answer was stored complete. `answered` is false for a gap: low confidence or no knowledge found. */
  'answer.completed': EventContext & {
    chatbotId: string;
    conversationId: string;
    /** The stored assistant message. */
    messageId: string;
    /** The user message it answers. */
    questionMessageId: string;
    /** The text of that user message (added after the first version: optional for consumers). */
    questionText?: string;
    channel: Channel;
    text: string;
    /** 0..1, how well the knowledge found matched the question. */
    confidence: number;
    answered: boolean;
    citations: EventCitation[];
    /** The model that wrote it, or null when no model was called (e.g. the bot's fallback message). */
    model: string | null;
    usage: { promptTokens: number; completionTokens: number };
    /** Milliseconds from the turn's start to the first answer token; null when no model answered. */
    firstTokenMs: number | null;
    /** Milliseconds from the turn's start to the stored answer. */
    durationMs: number;
  };

  /** An answer could not be written; the stored assistant message is marked failed. */
  'answer.failed': EventContext & {
    chatbotId: string;
    conversationId: string;
    messageId: string;
    questionMessageId: string;
    channel: Channel;
    /** Why, in words an owner can act on. */
    reason: string;
  };

  /** A model connection failed after its retries (unreachable, refused, timed out, bad credentials...). */
  'integration.failed': EventContext & {
    /** The bot whose turn hit the failure, or null outside a turn. */
    chatbotId: string | null;
    /** The organization's model connection, or null for the server's default connection. */
    integrationId: string | null;
    /** The host of the connection's base URL (e.g. `api.openai.com`). */
    provider: string;
    model: string;
    reason: string;
    /** How many calls were made, retries included. */
    attempts: number;
  };

  /** A lead was stored for the first time (an update of a known lead does not publish it). */
  'lead.created': EventContext & {
    chatbotId: string;
    leadId: string;
    conversationId: string | null;
    /** What the person left, by field key (email, name, phone, company, custom keys). */
    fields: Record<string, string>;
    /** `widget`: the widget's lead form; `api`: the REST API; `chat`: an email given in the conversation. */
    source: 'widget' | 'api' | 'chat';
  };

  /** An end user rated an answer (or cleared their rating: `rating` null). */
  'message.feedback': EventContext & {
    chatbotId: string;
    conversationId: string;
    messageId: string;
    rating: 'up' | 'down' | null;
    comment: string | null;
  };

  /** A knowledge source was ingested and is searchable. */
  'source.ready': EventContext & {
    chatbotId: string;
    sourceId: string;
    /** The source's kind (e.g. `url`, `file`, `text`). */
    type: string;
    title: string;
    chunkCount: number;
  };

  /** A knowledge source could not be ingested (after its retries). */
  'source.failed': EventContext & {
    chatbotId: string;
    sourceId: string;
    type: string;
    title: string;
    reason: string;
  };

  /**
   * Records of a conversation were written or changed: the conversation started, a question or an answer was
   * stored, an answer completed, failed or was rated. `recordsCreatedAt` are those records' creation times
   * (ISO 8601); analytics reads the records named and applies what changed to its rollups.
   */
  'conversation.changed': EventContext & {
    chatbotId: string;
    conversationId: string;
    recordsCreatedAt: string[];
    /** The messages written or changed (added after the first version: optional for consumers). */
    messageIds?: string[];
  };

  /** A conversation and its messages were deleted; they had been created from `createdFrom` to `createdTo`. */
  'conversation.deleted': EventContext & {
    chatbotId: string;
    conversationId: string;
    createdFrom: string;
    createdTo: string;
  };

  /** A messaging platform refused a channel's credentials (401/403, a revoked token): it stops sending until reconnected. */
  'channel.disconnected': EventContext & {
    chatbotId: string;
    channelId: string;
    /** The platform: `telegram`, `slack`, `whatsapp` or `webhook`. */
    type: string;
    reason: string;
  };

  /** An agent loop's execution finished with its output. */
  'agent_loop.completed': AgentLoopOutcome;
  /** An agent loop's execution failed, hit a limit or was interrupted twice. */
  'agent_loop.failed': AgentLoopOutcome;

  /** The organization used 80% of a monthly quota; published once per period per organization. */
  'quota.warning': EventContext & {
    /** Which quota: only the monthly message quota today. */
    quota: 'messages';
    /** The month, `YYYY-MM` (UTC). */
    period: string;
    used: number;
    limit: number;
    /** used / limit, e.g. 0.8. */
    ratio: number;
  };
}

/** How one agent-loop execution ended. */
export type AgentLoopOutcome = EventContext & {
  chatbotId: string;
  loopId: string;
  executionId: string;
  status: string;
  output: string | null;
  error: string | null;
  steps: number;
  durationMs: number;
};

export type DomainEventType = keyof DomainEvents;
/**
 * One event with its name, for code that handles several (failure reports, recorders). The payload is kept
 * apart from the name because a payload may have a `type` field of its own (a source's kind).
 */
export type DomainEvent = { [K in DomainEventType]: { type: K; payload: DomainEvents[K] } }[DomainEventType];
/** What a publisher passes: the payload, with `occurredAt` optional (the bus stamps the current time). */
export type DomainEventInput<K extends DomainEventType> = Omit<DomainEvents[K], 'occurredAt'> & {
  occurredAt?: string;
};
/** A subscriber receives the payload exactly as catalogued above. */
type Handler<K extends DomainEventType> = (payload: DomainEvents[K]) => Promise<void> | void;

/** Called with a subscriber's failure when the publisher did not wait for it (see `DomainEventBus.notify`). */
export type SubscriberFailure = (error: unknown, event: DomainEvent) => void;

/**
 * One in-process event bus. `publish` runs every handler and resolves once all have finished, so a publisher
 * that awaits it knows the consequences are in place (e.g. a deleted bot's data is gone); if any handler
 * failed, it rejects with the first failure after the others have run. `notify` is for publishers that must
 * neither wait for nor fail on their subscribers (a chat turn): it returns at once and reports failures to
 * `onFailure`. `notifyDurably` is `notify` for events that must outlive a crash: it resolves once the durable
 * subscribers (the webhook outbox) have stored the event, so a publisher that awaits it before acknowledging
 * the write that caused the event never acknowledges an event a crash can lose.
 */
export class DomainEventBus {
  private readonly handlers = new Map<DomainEventType, Array<Handler<never>>>();
  private readonly durable = new Set<Handler<never>>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly onFailure: SubscriberFailure = () => {}) {}

  /** `durable`: the subscriber stores the event, and `notifyDurably` waits for it (see the class comment). */
  subscribe<K extends DomainEventType>(type: K, handler: Handler<K>, options: { durable?: boolean } = {}): () => void {
    const list = this.handlers.get(type) ?? [];
    list.push(handler as Handler<never>);
    this.handlers.set(type, list);
    if (options.durable) this.durable.add(handler as Handler<never>);
    return () => {
      const at = list.indexOf(handler as Handler<never>);
      if (at >= 0) list.splice(at, 1);
      this.durable.delete(handler as Handler<never>);
    };
  }

  async publish<K extends DomainEventType>(type: K, input: DomainEventInput<K>): Promise<void> {
    const payload = stamped(input);
    const results = await Promise.allSettled(this.handlersOf(type).map(async (handler) => handler(payload)));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Publishes without waiting: each failing subscriber is reported to `onFailure`, never to the caller. */
  notify<K extends DomainEventType>(type: K, input: DomainEventInput<K>): void {
    this.runDetached(type, stamped(input), this.handlersOf(type));
  }

  /**
   * Publishes, and resolves once every durable subscriber has stored the event (rejecting with the first
   * failure, after the others have run); the other subscribers run as with `notify`. Awaited before the
   * publisher acknowledges its write, so an acknowledged event is stored even if the process dies right after.
   */
  async notifyDurably<K extends DomainEventType>(type: K, input: DomainEventInput<K>): Promise<void> {
    const payload = stamped(input);
    const handlers = this.handlersOf(type);
    this.runDetached(
      type,
      payload,
      handlers.filter((handler) => !this.durable.has(handler as Handler<never>)),
    );
    const durable = handlers.filter((handler) => this.durable.has(handler as Handler<never>));
    const results = await Promise.allSettled(durable.map(async (handler) => handler(payload)));
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private runDetached<K extends DomainEventType>(type: K, payload: DomainEvents[K], handlers: Array<Handler<K>>): void {
    for (const handler of handlers) {
      // Started after the caller's synchronous code, so even a synchronous subscriber never delays it.
      const run = Promise.resolve()
        .then(() => handler(payload))
        .catch((error: unknown) => {
          try {
            this.onFailure(error, { type, payload } as DomainEvent);
          } catch {
            // A failing failure report must not become an unhandled rejection.
          }
        })
        .finally(() => this.inFlight.delete(run));
      this.inFlight.add(run);
    }
  }

  /** Resolves once every handler started by `notify` so far has finished (for shutdown and tests). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private handlersOf<K extends DomainEventType>(type: K): Array<Handler<K>> {
    return [...(this.handlers.get(type) ?? [])] as Array<Handler<K>>;
  }
}

/** The event as published: the input itself when it says when it occurred (a turn's events do), else a stamped copy. */
function stamped<K extends DomainEventType>(input: DomainEventInput<K>): DomainEvents[K] {
  if (input.occurredAt !== undefined) return input as DomainEvents[K];
  return { ...input, occurredAt: new Date().toISOString() } as DomainEvents[K];
}

/** What a capability needs to announce events, without seeing who listens. */
export type EventPublisher = Pick<DomainEventBus, 'publish' | 'notify' | 'notifyDurably'>;
