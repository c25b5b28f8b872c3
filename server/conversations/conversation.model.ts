import { Schema, type Connection, type InferSchemaType, type Types } from 'mongoose';
import { CONVERSATION_CHANNELS } from '../../shared/schemas/conversations.js';

/** One conversation between an end user (API session, widget visitor or identified user) and a bot. */
const conversationSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    channel: { type: String, enum: CONVERSATION_CHANNELS, required: true },
    /** A custom frontend's id for the end user; `''` when none (the unique index needs a value). */
    sessionKey: { type: String, required: true },
    visitorId: { type: String, default: null },
    user: {
      sub: { type: String, default: null },
      name: { type: String, default: null },
      email: { type: String, default: null },
    },
    leadId: { type: Schema.Types.ObjectId, default: null },
    metadata: { type: Schema.Types.Mixed, default: () => ({}) },
    pageUrl: { type: String, default: null },
    messageCount: { type: Number, default: 0 },
    lastMessageAt: { type: Date, default: null },
    lastMessagePreview: { type: String, default: '' },
  },
  { timestamps: true, minimize: false },
);
// One conversation per API session; conversations without a session get a unique random key.
conversationSchema.index({ chatbotId: 1, sessionKey: 1 }, { unique: true });
conversationSchema.index({ organizationId: 1, createdAt: -1, _id: -1 });
conversationSchema.index({ chatbotId: 1, visitorId: 1, updatedAt: -1 });

export type ConversationDoc = InferSchemaType<typeof conversationSchema>;

export function conversationModel(connection: Connection) {
  return connection.model('Conversation', conversationSchema, 'conversations');
}

export type ConversationModel = ReturnType<typeof conversationModel>;
/** One stored conversation as queries return it. */
export type ConversationRecord = Awaited<ReturnType<ConversationModel['findOne']>> & object;

/** A conversation as stored, with no document methods (as the driver reads it). A `ConversationRecord` is one too. */
export type StoredConversation = ConversationDoc & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };
