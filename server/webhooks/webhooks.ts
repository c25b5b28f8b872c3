import { Types, type Connection } from 'mongoose';
import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../shared/schemas/webhooks.js';
import type { Config } from '../config.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { DomainEventBus, DomainEventType } from '../events/domain-events.js';
import type { Logger } from '../logger.js';
import type { InvalidationBus } from '../cache/invalidation-bus.js';
import type { AddressPolicy } from '../net/address-policy.js';
import { guardedFetch } from '../net/guarded-fetch.js';
import { webhookDeliveryModel, webhookEventModel, webhookModel, type WebhookModels } from './webhook.model.js';
import { WebhookOutbox, type WebhookEventData } from './webhook-outbox.js';
import { WebhookSender } from './webhook-sender.js';
import { WebhooksService } from './webhooks.service.js';

export function createWebhookModels(connection: Connection): WebhookModels {
  return {
    Webhook: webhookModel(connection),
    WebhookEvent: webhookEventModel(connection),
    WebhookDelivery: webhookDeliveryModel(connection),
  };
}

/** The domain events an endpoint can subscribe to (the rest of the webhook events come from elsewhere). */
const DOMAIN_WEBHOOK_EVENTS = WEBHOOK_EVENT_TYPES.filter(
  (type): type is WebhookEventType & DomainEventType => !type.startsWith('webhook.'),
);

/** Fanned-out outbox rows are kept a day; finished deliveries (the history the API shows) 30 days. */
const EVENT_RETENTION_MS = 24 * 60 * 60 * 1000;
const DELIVERY_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** The webhooks capability: the API's service, the outbox that records events, and the delivery worker. */
export class Webhooks {
  readonly service: WebhooksService;
  readonly outbox: WebhookOutbox;
  readonly sender: WebhookSender;
  private pruneTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: {
      models: WebhookModels;
      config: Config;
      secrets: SecretBox;
      policy: AddressPolicy;
      logger: Logger;
      assertChatbot: (organizationId: string, chatbotId: string) => Promise<void>;
      /** Carries "this organization's endpoints changed" to every node's outbox. */
      invalidations: InvalidationBus;
    },
  ) {
    const { config } = deps;
    const endpointsChanged = (organizationId: Types.ObjectId | string) =>
      deps.invalidations.publish('webhooks', organizationId.toString());
    this.sender = new WebhookSender(
      deps.models,
      deps.secrets,
      guardedFetch(deps.policy),
      {
        concurrency: config.WEBHOOK_DELIVERY_CONCURRENCY,
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        leaseMs: config.WEBHOOK_LEASE_MS,
        pollMs: config.WEBHOOK_POLL_MS,
        retryScheduleMs: config.WEBHOOK_RETRY_SCHEDULE_MS,
        disableAfterMs: config.WEBHOOK_DISABLE_AFTER_MS,
      },
      deps.logger,
      endpointsChanged,
    );
    const queued = (ids: Types.ObjectId[]) => this.sender.queue.hint(ids);
    this.outbox = new WebhookOutbox(deps.models, queued, deps.logger, config.WEBHOOK_POLL_MS, deps.invalidations);
    this.service = new WebhooksService({
      models: deps.models,
      secrets: deps.secrets,
      policy: deps.policy,
      outbox: this.outbox,
      assertChatbot: deps.assertChatbot,
      deliveriesQueued: queued,
      endpointsChanged,
    });
  }

  /**
   * Records every webhook-eligible domain event in the outbox, as a durable subscriber: a publisher that
   * announces with `notifyDurably` acknowledges its write only once the outbox row is stored, so an event
   * whose cause was acknowledged survives a crash (the fan-out worker finishes it after a restart). A crash
   * between the publisher's write and the outbox row means the write was never acknowledged: the caller
   * saw it fail. Events announced with plain `notify` are recorded the same way, without anyone waiting.
   */
  subscribeTo(bus: DomainEventBus): void {
    for (const type of DOMAIN_WEBHOOK_EVENTS) {
      bus.subscribe(type, (event) => this.outbox.recordDomainEvent(type, event as unknown as WebhookEventData), {
        durable: true,
      });
    }
  }

  start(): void {
    this.outbox.start();
    this.sender.queue.start();
    // The embedded engine has no TTL indexes, so old rows are removed here.
    this.pruneTimer = setInterval(() => {
      this.prune().catch((error: unknown) => this.deps.logger.warn({ err: error }, 'pruning webhook history failed'));
    }, PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  /** Hands claimed deliveries back (they are retaken at once by the next process). */
  async stop(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await Promise.all([this.outbox.stop(), this.sender.queue.stop()]);
  }

  /** A deleted bot's endpoints (those filtered to it) go with it, with their deliveries. */
  async deleteForChatbot(chatbotId: string): Promise<void> {
    const { Webhook, WebhookDelivery } = this.deps.models;
    const endpoints = await Webhook.find(
      { chatbotId: new Types.ObjectId(chatbotId) },
      { _id: 1, organizationId: 1 },
    ).lean();
    if (endpoints.length === 0) return;
    const ids = endpoints.map((endpoint) => endpoint._id);
    await WebhookDelivery.deleteMany({ webhookId: { $in: ids } });
    await Webhook.deleteMany({ _id: { $in: ids } });
    const organizations = new Set(endpoints.map((endpoint) => endpoint.organizationId.toString()));
    await Promise.all([...organizations].map((id) => this.deps.invalidations.publish('webhooks', id)));
  }

  /** Deletes fanned-out outbox rows and finished deliveries past their retention. */
  async prune(now = new Date()): Promise<void> {
    const { WebhookEvent, WebhookDelivery } = this.deps.models;
    await WebhookEvent.deleteMany({
      status: 'done',
      finishedAt: { $lt: new Date(now.getTime() - EVENT_RETENTION_MS) },
    });
    await WebhookDelivery.deleteMany({
      status: { $in: ['done', 'failed'] },
      finishedAt: { $lt: new Date(now.getTime() - DELIVERY_RETENTION_MS) },
    });
  }
}
