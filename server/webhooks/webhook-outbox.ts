import { Types } from 'mongoose';
import type { WebhookEventType } from '../../shared/schemas/webhooks.js';
import type { Logger } from '../logger.js';
import type { InvalidationBus } from '../cache/invalidation-bus.js';
import { ReadCache } from '../cache/read-cache.js';
import {
  LeaseQueue,
  queuedJobState,
  scheduledBackoff,
  type JobCollection,
  type LeasedJob,
} from '../queue/lease-queue.js';
import type { WebhookEventRecord, WebhookModels } from './webhook.model.js';

/** How long a fresh outbox row is left to its writer before the fan-out worker may take it over. */
const FANOUT_GRACE_MS = 30_000;
/** Outbox writes retried on a database blip before the event is given up (and logged). */
const RECORD_ATTEMPTS = 4;

/** What every event's `data` carries (the rest is the event's own). */
export interface WebhookEventData {
  organizationId: string;
  occurredAt: string;
  chatbotId?: string | null;
  [field: string]: unknown;
}

/** What a fan-out reads of an outbox row. */
interface FanOutSource {
  _id: Types.ObjectId;
  organizationId: Types.ObjectId;
  type: string;
  webhookIds: Types.ObjectId[];
  body: string;
}

/** The `webhook-id` of every delivery of an event: stable across attempts, endpoints and redeliveries. */
export function messageIdOf(eventId: Types.ObjectId | string): string {
  return `msg_${eventId.toString()}`;
}

/** How long an organization's endpoint list stays cached when no invalidation arrives. */
const WEBHOOK_ENDPOINTS_CACHE_MS = 5_000;

/** What matching an event to endpoints reads of each enabled endpoint. */
interface EndpointFilter {
  _id: Types.ObjectId;
  events: string[];
  chatbotId?: Types.ObjectId | null;
}

/**
 * The webhook outbox. An event is written as one document, then fanned out to one delivery per endpoint it
 * matched. The single insert is the durable point: a crash before the fan-out finishes leaves an outbox row
 * that the fan-out worker (a lease queue over the outbox) completes after `FANOUT_GRACE_MS`; deliveries are
 * unique per event and endpoint, so a fan-out that runs twice creates nothing twice.
 */
export class WebhookOutbox {
  private readonly fanOutQueue: LeaseQueue<WebhookEventRecord>;
  private readonly fanningOut = new Set<Promise<void>>();
  /**
   * Each organization's enabled endpoints, read by every event (three per chat turn). Every write of an
   * endpoint invalidates its organization on every node (`WEBHOOK_ENDPOINTS_CACHE_MS` bounds a lost one).
   */
  private readonly endpoints = new ReadCache<EndpointFilter[]>(WEBHOOK_ENDPOINTS_CACHE_MS);

  constructor(
    private readonly models: WebhookModels,
    /** Hands fresh deliveries to the delivery worker, which claims them at once. */
    private readonly deliveriesQueued: (ids: Types.ObjectId[]) => void,
    private readonly logger: Logger,
    pollMs: number,
    invalidations: InvalidationBus,
  ) {
    invalidations.subscribe('webhooks', {
      onKey: (organizationId) => this.endpoints.invalidate(organizationId),
      onReset: () => this.endpoints.clear(),
    });
    this.fanOutQueue = new LeaseQueue<WebhookEventRecord>(
      models.WebhookEvent as unknown as JobCollection,
      { process: async (job: LeasedJob<WebhookEventRecord>) => void (await this.fanOut(job.record)) },
      {
        name: 'webhook-fan-out',
        concurrency: 2,
        leaseMs: 30_000,
        pollMs: Math.max(pollMs, 1_000),
        maxAttempts: 20,
        retryDelayMs: scheduledBackoff([1_000, 10_000, 60_000]),
      },
      logger,
    );
  }

  start(): void {
    this.fanOutQueue.start();
  }

  /** Waits for the fan-outs under way, then hands the worker's claims back. */
  async stop(): Promise<void> {
    while (this.fanningOut.size > 0) await Promise.allSettled([...this.fanningOut]);
    await this.fanOutQueue.stop();
  }

  /**
   * Stores a domain event for the endpoints subscribed to it (nothing when none is), retrying a database blip
   * a few times, and resolves once the outbox row is written: the durable point the publisher waits for
   * before acknowledging (`DomainEventBus.notifyDurably`). The fan-out to deliveries then runs without the
   * publisher; a crash before it finishes leaves the row to the fan-out worker. Rejects when the row could
   * not be written, so the publisher does not acknowledge an event that was not stored.
   */
  async recordDomainEvent(type: WebhookEventType, event: WebhookEventData & { type?: string }): Promise<void> {
    const { type: _type, ...data } = event;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const stored = await this.store(type, data);
        if (stored) this.fanOutDetached(stored);
        return;
      } catch (error) {
        if (attempt >= RECORD_ATTEMPTS) {
          this.logger.error({ err: error, eventType: type }, 'a webhook event could not be recorded');
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * 4 ** attempt));
      }
    }
  }

  /**
   * Writes the event and its deliveries. `webhookIds` names the endpoints (a test event); otherwise the
   * organization's enabled endpoints subscribed to the type (and to the event's bot, when they filter) match.
   * Returns the event and delivery ids, or null when no endpoint matched.
   */
  async record(
    type: WebhookEventType,
    data: WebhookEventData,
    webhookIds?: Types.ObjectId[],
  ): Promise<{ eventId: Types.ObjectId; deliveryIds: Types.ObjectId[] } | null> {
    const event = await this.store(type, data, webhookIds);
    if (!event) return null;
    return { eventId: event._id, deliveryIds: await this.completeFanOut(event) };
  }

  /** The outbox row, written once; null when no endpoint matched. */
  private async store(type: WebhookEventType, data: WebhookEventData, webhookIds?: Types.ObjectId[]) {
    const organizationId = new Types.ObjectId(data.organizationId);
    const targets = webhookIds ?? (await this.matching(organizationId, type, data.chatbotId ?? null));
    if (targets.length === 0) return null;
    const body = JSON.stringify({ type, timestamp: data.occurredAt, data });
    const now = new Date();
    // Lean inserts skip mongoose's defaults and timestamps (and their cost), so every field is set here.
    const [event] = await this.models.WebhookEvent.insertMany(
      [
        {
          organizationId,
          type,
          webhookIds: targets,
          body,
          ...queuedJobState(new Date(now.getTime() + FANOUT_GRACE_MS)),
          createdAt: now,
          updatedAt: now,
        },
      ],
      { lean: true },
    );
    return event!;
  }

  /** Fans a stored event out and marks it done, unless the fan-out worker took it over meanwhile. */
  private async completeFanOut(event: FanOutSource): Promise<Types.ObjectId[]> {
    const deliveryIds = await this.fanOut(event);
    // Done unless the fan-out worker took it over meanwhile (then it finishes it, creating nothing twice).
    await this.models.WebhookEvent.updateOne(
      { _id: event._id, status: 'queued', lockToken: null },
      { $set: { status: 'done', finishedAt: new Date() } },
    );
    return deliveryIds;
  }

  /** A failure here loses nothing: the row stays queued, and the fan-out worker completes it after the grace. */
  private fanOutDetached(event: FanOutSource): void {
    const run = this.completeFanOut(event)
      .then(() => undefined)
      .catch((error: unknown) =>
        this.logger.warn({ err: error, eventId: event._id.toString() }, 'webhook fan-out left to the worker'),
      )
      .finally(() => this.fanningOut.delete(run));
    this.fanningOut.add(run);
  }

  private async matching(organizationId: Types.ObjectId, type: string, chatbotId: string | null) {
    const endpoints = await this.endpoints.get(organizationId.toString(), () =>
      this.models.Webhook.find({ organizationId, enabled: true }, { _id: 1, events: 1, chatbotId: 1 })
        .lean<EndpointFilter[]>()
        .exec(),
    );
    return (endpoints ?? [])
      .filter(
        (endpoint) =>
          (endpoint.events.includes(type) || endpoint.events.includes('*')) &&
          (!endpoint.chatbotId || endpoint.chatbotId.toString() === chatbotId),
      )
      .map((endpoint) => endpoint._id);
  }

  /** Creates the event's missing deliveries; answers the ids of all of them. */
  private async fanOut(event: FanOutSource): Promise<Types.ObjectId[]> {
    const now = new Date();
    const deliveries = event.webhookIds.map((webhookId) => ({
      _id: new Types.ObjectId(),
      organizationId: event.organizationId,
      webhookId,
      eventId: event._id,
      eventType: event.type,
      body: event.body,
      lastStatusCode: null,
      lastLatencyMs: null,
      deliveredAt: null,
      ...queuedJobState(now),
      createdAt: now,
      updatedAt: now,
    }));
    try {
      await this.models.WebhookDelivery.insertMany(deliveries, { ordered: false, lean: true });
    } catch (error) {
      // Deliveries an earlier fan-out of the same event wrote already; anything else is a real failure.
      if (!onlyDuplicates(error)) throw error;
      const existing = await this.models.WebhookDelivery.find({ eventId: event._id }, { _id: 1 }).lean();
      const ids = existing.map((delivery) => delivery._id);
      this.deliveriesQueued(ids);
      return ids;
    }
    const ids = deliveries.map((delivery) => delivery._id);
    this.deliveriesQueued(ids);
    return ids;
  }
}

function onlyDuplicates(error: unknown): boolean {
  const { code, writeErrors } = error as { code?: unknown; writeErrors?: Array<{ code?: unknown }> };
  if (Array.isArray(writeErrors) && writeErrors.length > 0) return writeErrors.every((item) => item.code === 11000);
  return code === 11000;
}
