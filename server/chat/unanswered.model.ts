import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/** The gap log: questions a bot answered with low confidence, counted by their content words. */
const unansweredSchema = new Schema({
  organizationId: { type: Schema.Types.ObjectId, required: true },
  chatbotId: { type: Schema.Types.ObjectId, required: true },
  normalized: { type: String, required: true },
  question: { type: String, required: true },
  count: { type: Number, default: 0 },
  lastConfidence: { type: Number, default: 0 },
  firstAskedAt: { type: Date, required: true },
  lastAskedAt: { type: Date, required: true },
  status: { type: String, enum: ['open', 'resolved'], default: 'open' },
  resolvedAt: { type: Date, default: null },
  sourceId: { type: Schema.Types.ObjectId, default: null },
});
unansweredSchema.index({ chatbotId: 1, normalized: 1 }, { unique: true });
unansweredSchema.index({ chatbotId: 1, count: -1, lastAskedAt: -1 });

export type UnansweredDoc = InferSchemaType<typeof unansweredSchema>;

export function unansweredModel(connection: Connection) {
  return connection.model('Unanswered', unansweredSchema, 'unanswered_questions');
}

export type UnansweredModel = ReturnType<typeof unansweredModel>;
/** One stored unanswered as queries return it. */
export type UnansweredRecord = Awaited<ReturnType<UnansweredModel['findOne']>> & object;
