import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * One processing job per source, reused for every reprocessing. A worker claims it
 * with a lease (`lockedUntil`, `lockToken`); an expired lease is retaken by any worker.
 */
const knowledgeJobSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    sourceId: { type: Schema.Types.ObjectId, required: true },
    status: { type: String, enum: ['queued', 'running', 'done', 'failed'], default: 'queued' },
    /** The source revision this job processes. */
    revision: { type: Number, required: true },
    attempts: { type: Number, default: 0 },
    runAt: { type: Date, required: true },
    lockedUntil: { type: Date, required: true },
    lockToken: { type: String, default: null },
    lastError: { type: String, default: null },
    finishedAt: { type: Date, default: null },
  },
  { timestamps: true },
);
knowledgeJobSchema.index({ sourceId: 1 }, { unique: true });
knowledgeJobSchema.index({ status: 1, runAt: 1 });
knowledgeJobSchema.index({ chatbotId: 1 });

export type KnowledgeJobDoc = InferSchemaType<typeof knowledgeJobSchema>;

export function knowledgeJobModel(connection: Connection) {
  return connection.model('KnowledgeJob', knowledgeJobSchema, 'knowledge_jobs');
}

export type KnowledgeJobModel = ReturnType<typeof knowledgeJobModel>;
/** One stored knowledgeJob as queries return it. */
export type KnowledgeJobRecord = Awaited<ReturnType<KnowledgeJobModel['findOne']>> & object;
