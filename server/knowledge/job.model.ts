import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { addLeasedJobIndexes, leasedJobFields } from '../queue/lease-queue.js';

/**
 * One processing job per source, reused for every reprocessing. A worker claims it
 * with a lease (`lockedUntil`, `lockToken`); an expired lease is retaken by any worker.
 */
const knowledgeJobSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    sourceId: { type: Schema.Types.ObjectId, required: true },
    /** The source revision this job processes. */
    revision: { type: Number, required: true },
    ...leasedJobFields,
  },
  { timestamps: true },
);
knowledgeJobSchema.index({ sourceId: 1 }, { unique: true });
addLeasedJobIndexes(knowledgeJobSchema);
knowledgeJobSchema.index({ chatbotId: 1 });

export type KnowledgeJobDoc = InferSchemaType<typeof knowledgeJobSchema>;

export function knowledgeJobModel(connection: Connection) {
  return connection.model('KnowledgeJob', knowledgeJobSchema, 'knowledge_jobs');
}

export type KnowledgeJobModel = ReturnType<typeof knowledgeJobModel>;
/** One stored knowledgeJob as queries return it. */
export type KnowledgeJobRecord = Awaited<ReturnType<KnowledgeJobModel['findOne']>> & object;
