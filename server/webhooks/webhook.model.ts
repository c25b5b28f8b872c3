import { Schema, type Connection, type InferSchemaType, type Types } from 'mongoose';
import { addLeasedJobIndexes, leasedJobFields } from '../queue/lease-queue.js';

/** An organization's webhook endpoint. Its signing secrets are sealed with SECRET_KEY (they must be read to sign). */
const webhookSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    url: { type: String, required: true },
    /** Event types, or `*` for all. */
    events: { type: [String], required: true },
    description: { type: String, default: '' },
    enabled: { type: Boolean, default: true },
    chatbotId: { type: Schema.Types.ObjectId, default: null },
    /**
     * Newest first. A rotated-out secret keeps an `expiresAt` and signs beside the new one until then, so
     * receivers can switch over without missing a delivery.
     */
    secrets: {
      type: [{ _id: false, sealed: { type: String, required: true }, expiresAt: { type: Date, default: null } }],
      required: true,
    },
    disabledReason: { type: String, default: null },
    failingSince: { type: Date, default: null },
  },
  { timestamps: true },
);
webhookSchema.index({ organizationId: 1, createdAt: -1, _id: -1 });
webhookSchema.index({ organizationId: 1, enabled: 1 });

/**
 * The outbox: one row per event an endpoint subscribed to, written when the event happens. Its lease-queue
 * fields make it a fan-out job: the writer fans out at once and marks it done, and a row a crash left
 * unfanned is claimed later by the fan-out worker, which creates the missing deliveries.
 */
const webhookEventSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    type: { type: String, required: true },
    /** The endpoints that matched when the event happened. */
    webhookIds: { type: [Schema.Types.ObjectId], required: true },
    /** The exact body every endpoint gets (and is signed), fixed once. */
    body: { type: String, required: true },
    ...leasedJobFields,
  },
  { timestamps: true },
);
addLeasedJobIndexes(webhookEventSchema);

/** One event's delivery to one endpoint: a job on the shared lease queue, retried on the webhook schedule. */
const webhookDeliverySchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    webhookId: { type: Schema.Types.ObjectId, required: true },
    eventId: { type: Schema.Types.ObjectId, required: true },
    eventType: { type: String, required: true },
    body: { type: String, required: true },
    lastStatusCode: { type: Number, default: null },
    lastLatencyMs: { type: Number, default: null },
    deliveredAt: { type: Date, default: null },
    ...leasedJobFields,
  },
  { timestamps: true },
);
// One delivery per event and endpoint, however many times the fan-out runs.
webhookDeliverySchema.index({ eventId: 1, webhookId: 1 }, { unique: true });
webhookDeliverySchema.index({ webhookId: 1, createdAt: -1, _id: -1 });
addLeasedJobIndexes(webhookDeliverySchema);

export function webhookModel(connection: Connection) {
  return connection.model('Webhook', webhookSchema, 'webhooks');
}
export function webhookEventModel(connection: Connection) {
  return connection.model('WebhookEvent', webhookEventSchema, 'webhook_events');
}
export function webhookDeliveryModel(connection: Connection) {
  return connection.model('WebhookDelivery', webhookDeliverySchema, 'webhook_deliveries');
}

export type WebhookModel = ReturnType<typeof webhookModel>;
export type WebhookEventModel = ReturnType<typeof webhookEventModel>;
export type WebhookDeliveryModel = ReturnType<typeof webhookDeliveryModel>;
/** What the capability reads of a stored endpoint, lean or hydrated. */
export interface WebhookRecord {
  _id: Types.ObjectId;
  organizationId: Types.ObjectId;
  url: string;
  events: string[];
  description?: string | null;
  enabled?: boolean | null;
  chatbotId?: Types.ObjectId | null;
  secrets: ReadonlyArray<{ sealed: string; expiresAt?: Date | null }>;
  disabledReason?: string | null;
  failingSince?: Date | null;
  createdAt: Date;
  updatedAt: Date;
}
type Stored<T> = T & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };
/** An outbox row as a lean query returns it. */
export type WebhookEventRecord = Stored<InferSchemaType<typeof webhookEventSchema>>;
/** A delivery as a lean query returns it. */
export type WebhookDeliveryRecord = Stored<InferSchemaType<typeof webhookDeliverySchema>>;

export interface WebhookModels {
  Webhook: WebhookModel;
  WebhookEvent: WebhookEventModel;
  WebhookDelivery: WebhookDeliveryModel;
}
