import { Document, Schema, type Connection, type InferSchemaType, type Types } from 'mongoose';

const sourceRefSchema = new Schema(
  { sourceId: String, title: String, url: { type: String, default: null }, excerpt: String, score: Number },
  { _id: false },
);

/** One message; `clientMessageId` is unique per conversation so a retried send is never stored twice. */
const messageSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    conversationId: { type: Schema.Types.ObjectId, required: true },
    role: { type: String, enum: ['user', 'assistant'], required: true },
    content: { type: String, default: '' },
    status: { type: String, enum: ['complete', 'pending', 'failed'], required: true },
    /** Always set (generated when the client sent none): the embedded engine has no partial indexes. */
    clientMessageId: { type: String, required: true },
    /** For an answer: the user message it answers. */
    replyTo: { type: Schema.Types.ObjectId, default: null },
    sources: { type: [sourceRefSchema], default: [] },
    confidence: { type: Number, default: null },
    model: { type: String, default: null },
    finishReason: { type: String, default: null },
    promptTokens: { type: Number, default: 0 },
    completionTokens: { type: Number, default: 0 },
    /** For an answer: ms from the turn's start to the first answer token (null when no model answered). */
    firstTokenMs: { type: Number, default: null },
    /** For an answer: ms from the turn's start to the stored answer. */
    durationMs: { type: Number, default: null },
    error: { type: String, default: null },
    /** While pending: the process writing the answer, its turn, and when it last wrote (see answer-lease.ts). */
    leaseOwner: { type: String, default: null },
    leaseId: { type: String, default: null },
    heartbeatAt: { type: Date, default: null },
    /** For an answer: the actions the model called in this turn ({ id, name, arguments, status, result, error }). */
    toolCalls: { type: [Schema.Types.Mixed], default: [] },
    /** For an answer that stopped to ask: the action waiting for the visitor's approval, and its one-use token. */
    pendingAction: { type: Schema.Types.Mixed, default: null },
    /**
     * The action last taken from `pendingAction`, with the visitor's decision (`approve`) and who took it
     * (`taker`: a channel's reply job, else null), so that taker's retry resumes an interrupted confirmation.
     */
    takenAction: { type: Schema.Types.Mixed, default: null },
    /** The answer invited the visitor to leave an email (owner setting), so the next message may carry one. */
    askedForEmail: { type: Boolean, default: false },
    feedback: {
      rating: { type: String, enum: ['up', 'down', null], default: null },
      comment: { type: String, default: null },
      at: { type: Date, default: null },
    },
  },
  { timestamps: true },
);
messageSchema.index({ conversationId: 1, clientMessageId: 1 }, { unique: true });
messageSchema.index({ conversationId: 1, createdAt: 1, _id: 1 });
messageSchema.index({ chatbotId: 1 });
messageSchema.index({ 'pendingAction.token': 1 });
messageSchema.index({ 'takenAction.token': 1 });
// The sweep for answers left pending by a stopped server.
messageSchema.index({ status: 1, heartbeatAt: 1 });

export type MessageDoc = InferSchemaType<typeof messageSchema>;

export function messageModel(connection: Connection) {
  return connection.model('Message', messageSchema, 'messages');
}

export type MessageModel = ReturnType<typeof messageModel>;
/** One stored message as queries return it. */
export type MessageRecord = Awaited<ReturnType<MessageModel['findOne']>> & object;

/**
 * A message as stored, with no document methods: what a turn builds for its insert, and what the driver reads.
 * A `MessageRecord` is one too.
 */
export type StoredMessage = MessageDoc & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };

/** True when `message` is a mongoose document (read by a query), false for a plain record. */
export function isMessageDocument(message: StoredMessage): message is MessageRecord {
  return message instanceof Document;
}
