import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/** One organization's counters for one calendar month (UTC), updated with atomic `$inc`. */
const usageSchema = new Schema({
  organizationId: { type: Schema.Types.ObjectId, required: true },
  /** `YYYY-MM` in UTC. */
  period: { type: String, required: true },
  messages: { type: Number, default: 0 },
  promptTokens: { type: Number, default: 0 },
  completionTokens: { type: Number, default: 0 },
  modelFailures: { type: Number, default: 0 },
  modelRetries: { type: Number, default: 0 },
  /** When the 80% quota warning was claimed for this period: set once, so it is announced once. */
  quotaWarningAt: { type: Date, default: null },
});
usageSchema.index({ organizationId: 1, period: 1 }, { unique: true });

export type UsageDoc = InferSchemaType<typeof usageSchema>;

export function usageModel(connection: Connection) {
  return connection.model('Usage', usageSchema, 'usage');
}

export type UsageModel = ReturnType<typeof usageModel>;
/** One stored usage as queries return it. */
export type UsageRecord = Awaited<ReturnType<UsageModel['findOne']>> & object;
