import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { CHANNEL_TYPES } from '../../shared/schemas/channels.js';
import { addLeasedJobIndexes, leasedJobFields } from '../queue/lease-queue.js';

/** One messaging-platform account a bot answers on. Credentials are sealed with SECRET_KEY. */
const channelSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    type: { type: String, enum: CHANNEL_TYPES, required: true },
    name: { type: String, required: true, maxlength: 100 },
    /** The platform credentials as sealed JSON. */
    credentialsSealed: { type: String, required: true },
    /** Sealed secret Wisp checks inbound deliveries against when the platform lets Wisp choose it (Telegram). */
    inboundSecretSealed: { type: String, default: null },
    callbackUrl: { type: String, default: null },
    status: { type: String, enum: ['connected', 'disconnected'], default: 'connected' },
    statusReason: { type: String, default: null },
    lastEventAt: { type: Date, default: null },
  },
  { timestamps: true },
);
channelSchema.index({ organizationId: 1, chatbotId: 1, createdAt: -1, _id: -1 });

export type ChannelDoc = InferSchemaType<typeof channelSchema>;

export function channelModel(connection: Connection) {
  return connection.model('Channel', channelSchema, 'channels');
}

export type ChannelModel = ReturnType<typeof channelModel>;
export type ChannelRecord = Awaited<ReturnType<ChannelModel['findOne']>> & object;

/**
 * One inbound platform message and the durable job that answers it: the turn runs once (its answer is kept
 * here), then the reply is delivered until the platform takes it. Unique per platform event id, so a
 * delivery the platform retries is stored, and answered, once.
 */
const channelEventSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    channelId: { type: Schema.Types.ObjectId, required: true },
    /** The platform's id of the event (Telegram update, Slack event, WhatsApp message, webhook-id). */
    eventKey: { type: String, required: true },
    text: { type: String, required: true },
    /** The platform user, the conversation's visitor. */
    userId: { type: String, required: true },
    userName: { type: String, default: null },
    /** The platform chat or thread: one conversation each. */
    threadKey: { type: String, required: true },
    /** Where the reply goes, in the platform's own terms (chat id, channel + thread, phone number). */
    replyTo: { type: Schema.Types.Mixed, required: true },
    /** Answered synchronously in the inbound response instead of delivered. */
    syncReply: { type: Boolean, default: false },
    /** Set on a visitor's answer to a paused action: the job continues the turn instead of starting one. */
    confirm: {
      token: { type: String, default: null },
      approve: { type: Boolean, default: null },
    },
    answer: {
      text: { type: String, default: null },
      conversationId: { type: String, default: null },
      messageId: { type: String, default: null },
      /** The action the answer paused for, with the token that continues it (never shown but to the webhook). */
      pendingAction: { type: Schema.Types.Mixed, default: null },
    },
    deliveredAt: { type: Date, default: null },
    /** The platform's id of the delivered answer, for feedback that refers to it (Slack: channel and ts). */
    deliveredRef: { type: String, default: null },
    ...leasedJobFields,
  },
  { timestamps: true, minimize: false },
);
channelEventSchema.index({ channelId: 1, eventKey: 1 }, { unique: true });
channelEventSchema.index({ chatbotId: 1 });
channelEventSchema.index({ channelId: 1, deliveredRef: 1 });
channelEventSchema.index({ channelId: 1, 'answer.pendingAction.token': 1 });
channelEventSchema.index({ channelId: 1, threadKey: 1, createdAt: -1 });
addLeasedJobIndexes(channelEventSchema);

export type ChannelEventDoc = InferSchemaType<typeof channelEventSchema>;

export function channelEventModel(connection: Connection) {
  return connection.model('ChannelEvent', channelEventSchema, 'channel_events');
}

export type ChannelEventModel = ReturnType<typeof channelEventModel>;
export type ChannelEventRecord = Awaited<ReturnType<ChannelEventModel['findOne']>> & object;
