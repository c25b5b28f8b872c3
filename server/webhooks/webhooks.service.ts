import { Types } from 'mongoose';
import type {
  CreateWebhookInput,
  UpdateWebhookInput,
  WebhookDeliveryDto,
  WebhookDto,
} from '../../shared/schemas/webhooks.js';
import type { SecretBox } from '../crypto/secret-box.js';
import { findPage, NEWEST_FIRST } from '../db/find-page.js';
import { AppError } from '../errors/app-error.js';
import type { AddressPolicy } from '../net/address-policy.js';
import { assertPublicUrl } from '../net/public-url.js';
import { queuedJobState } from '../queue/lease-queue.js';
import type { WebhookDeliveryRecord, WebhookModels, WebhookRecord } from './webhook.model.js';
import { messageIdOf, type WebhookOutbox } from './webhook-outbox.js';
import { newSigningSecret } from './webhook-signer.js';

/** How long a rotated-out secret keeps signing beside the new one. */
export const SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

function toDto(doc: WebhookRecord): WebhookDto {
  return {
    id: doc._id.toString(),
    url: doc.url,
    events: doc.events,
    description: doc.description ?? '',
    enabled: doc.enabled ?? true,
    chatbotId: doc.chatbotId?.toString() ?? null,
    disabledReason: doc.disabledReason ?? null,
    failingSince: doc.failingSince?.toISOString() ?? null,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

const DELIVERY_STATUS = { queued: 'queued', running: 'running', done: 'delivered', failed: 'failed' } as const;

function toDeliveryDto(doc: WebhookDeliveryRecord): WebhookDeliveryDto {
  const status = DELIVERY_STATUS[(doc.status ?? 'queued') as keyof typeof DELIVERY_STATUS];
  return {
    id: doc._id.toString(),
    messageId: messageIdOf(doc.eventId),
    eventType: doc.eventType,
    status,
    attempts: doc.attempts ?? 0,
    lastStatusCode: doc.lastStatusCode ?? null,
    lastLatencyMs: doc.lastLatencyMs ?? null,
    lastError: doc.lastError ?? null,
    nextAttemptAt: status === 'queued' ? doc.runAt.toISOString() : null,
    deliveredAt: doc.deliveredAt?.toISOString() ?? null,
    createdAt: doc.createdAt.toISOString(),
  };
}

export interface WebhooksDeps {
  models: WebhookModels;
  secrets: SecretBox;
  policy: AddressPolicy;
  outbox: WebhookOutbox;
  /** Throws 404 unless the organization has this bot (an endpoint may only filter on its own bots). */
  assertChatbot: (organizationId: string, chatbotId: string) => Promise<void>;
  /** Hands a requeued delivery to the delivery worker. */
  deliveriesQueued: (ids: Types.ObjectId[]) => void;
  /** Drops the organization's cached endpoint list on every node; called after every endpoint write. */
  endpointsChanged: (organizationId: string) => Promise<void>;
}

/** An organization's webhook endpoints, their secrets and their deliveries. */
export class WebhooksService {
  constructor(private readonly deps: WebhooksDeps) {}

  async create(organizationId: string, input: CreateWebhookInput): Promise<WebhookDto & { secret: string }> {
    await assertPublicUrl(input.url, 'url', this.deps.policy);
    if (input.chatbotId) await this.deps.assertChatbot(organizationId, input.chatbotId);
    const secret = newSigningSecret();
    const doc = await this.deps.models.Webhook.create({
      ...input,
      organizationId: new Types.ObjectId(organizationId),
      chatbotId: input.chatbotId ? new Types.ObjectId(input.chatbotId) : null,
      secrets: [{ sealed: this.deps.secrets.seal(secret), expiresAt: null }],
    });
    await this.deps.endpointsChanged(organizationId);
    return { ...toDto(doc), secret };
  }

  async list(organizationId: string, page: number, perPage: number) {
    const filter = { organizationId: new Types.ObjectId(organizationId) };
    const { items, total } = await findPage(
      this.deps.models.Webhook.find(filter).sort(NEWEST_FIRST).lean(),
      this.deps.models.Webhook.countDocuments(filter),
      page,
      perPage,
    );
    return { items: items.map(toDto), total };
  }

  async get(organizationId: string, id: string): Promise<WebhookDto> {
    return toDto(await this.find(organizationId, id));
  }

  async update(organizationId: string, id: string, input: UpdateWebhookInput): Promise<WebhookDto> {
    const doc = await this.find(organizationId, id);
    if (input.url !== undefined) await assertPublicUrl(input.url, 'url', this.deps.policy);
    if (input.chatbotId) await this.deps.assertChatbot(organizationId, input.chatbotId);
    const { chatbotId, ...rest } = input;
    doc.set(rest);
    if (chatbotId !== undefined) doc.chatbotId = chatbotId ? new Types.ObjectId(chatbotId) : null;
    // Enabling again starts afresh: the reason it was disabled and its failure streak are gone.
    if (input.enabled === true) doc.set({ disabledReason: null, failingSince: null });
    await doc.save();
    await this.deps.endpointsChanged(organizationId);
    return toDto(doc);
  }

  /** Deletes the endpoint; its pending deliveries give up when claimed, and its history goes with it. */
  async remove(organizationId: string, id: string): Promise<void> {
    const doc = await this.find(organizationId, id);
    await this.deps.models.Webhook.deleteOne({ _id: doc._id });
    await this.deps.endpointsChanged(organizationId);
    await this.deps.models.WebhookDelivery.deleteMany({ webhookId: doc._id, status: { $ne: 'running' } });
  }

  /** A new secret signs from now on; the previous ones keep signing beside it for 24 hours. */
  async rotateSecret(organizationId: string, id: string): Promise<WebhookDto & { secret: string }> {
    const doc = await this.find(organizationId, id);
    const now = Date.now();
    const secret = newSigningSecret();
    const kept = doc.secrets
      .filter((old) => !old.expiresAt || old.expiresAt.getTime() > now)
      .map((old) => ({ sealed: old.sealed, expiresAt: old.expiresAt ?? new Date(now + SECRET_OVERLAP_MS) }));
    doc.set({ secrets: [{ sealed: this.deps.secrets.seal(secret), expiresAt: null }, ...kept] });
    await doc.save();
    return { ...toDto(doc), secret };
  }

  /** Sends a `webhook.test` event to this endpoint alone, through the same outbox and queue as every event. */
  async sendTest(organizationId: string, id: string) {
    const doc = await this.find(organizationId, id);
    if (!doc.enabled) {
      throw new AppError('ConflictError', { message: 'This webhook is disabled; enable it before sending a test' });
    }
    const recorded = await this.deps.outbox.record(
      'webhook.test',
      {
        organizationId,
        occurredAt: new Date().toISOString(),
        webhookId: id,
        message: 'A test event sent from the API',
      },
      [doc._id],
    );
    const deliveryId = recorded!.deliveryIds[0]!;
    return { deliveryId: deliveryId.toString(), messageId: messageIdOf(recorded!.eventId) };
  }

  async deliveries(organizationId: string, id: string, query: { page: number; perPage: number; status?: string }) {
    const doc = await this.find(organizationId, id);
    const stored = Object.entries(DELIVERY_STATUS).find(([, shown]) => shown === query.status)?.[0];
    const filter = { webhookId: doc._id, ...(stored ? { status: stored as keyof typeof DELIVERY_STATUS } : {}) };
    const { items, total } = await findPage(
      this.deps.models.WebhookDelivery.find(filter).sort(NEWEST_FIRST).lean(),
      this.deps.models.WebhookDelivery.countDocuments(filter),
      query.page,
      query.perPage,
    );
    return { items: items.map(toDeliveryDto), total };
  }

  /** Queues the delivery again now, with a fresh set of attempts and the same `webhook-id` and body. */
  async redeliver(organizationId: string, id: string, deliveryId: string): Promise<WebhookDeliveryDto> {
    const doc = await this.find(organizationId, id);
    if (!doc.enabled) {
      throw new AppError('ConflictError', { message: 'This webhook is disabled; enable it before redelivering' });
    }
    const delivery = await this.deps.models.WebhookDelivery.findOneAndUpdate(
      { _id: objectIdOrNull(deliveryId), webhookId: doc._id },
      { $set: { ...queuedJobState(), deliveredAt: null } },
      { returnDocument: 'after' },
    ).lean();
    if (!delivery)
      throw new AppError('NotFoundError', { message: `No delivery with id "${deliveryId}" for this webhook` });
    this.deps.deliveriesQueued([delivery._id]);
    return toDeliveryDto(delivery);
  }

  private async find(organizationId: string, id: string) {
    const doc = await this.deps.models.Webhook.findOne({
      _id: objectIdOrNull(id),
      organizationId: new Types.ObjectId(organizationId),
    });
    if (!doc) throw new AppError('NotFoundError', { message: `No webhook with id "${id}"` });
    return doc;
  }
}

function objectIdOrNull(id: string): Types.ObjectId | null {
  return Types.ObjectId.isValid(id) ? new Types.ObjectId(id) : null;
}
