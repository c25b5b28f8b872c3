import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/** One passage of a source, as indexed and cited. */
const chunkSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    sourceId: { type: Schema.Types.ObjectId, required: true },
    /** The processing run that wrote it; only the source's `activeRun` is searchable. */
    run: { type: String, required: true },
    position: { type: Number, required: true },
    title: { type: String, required: true },
    /** Heading path inside the document, e.g. "Billing › Refunds". */
    heading: { type: String, default: '' },
    url: { type: String, default: null },
    anchor: { type: String, default: null },
    text: { type: String, required: true },
    tokens: { type: Number, required: true },
    /** Unit-length float32 little-endian embedding, or null when the bot has no embedding model. */
    vector: { type: Buffer, default: null },
    vectorModel: { type: String, default: null },
  },
  { timestamps: false },
);
chunkSchema.index({ sourceId: 1, run: 1, position: 1 }, { unique: true });
chunkSchema.index({ chatbotId: 1 });

/**
 * A per-bot counter bumped whenever the bot's searchable chunks change, so every
 * node can tell with one small read whether its in-memory index is current.
 */
const knowledgeVersionSchema = new Schema({
  organizationId: { type: Schema.Types.ObjectId, required: true },
  chatbotId: { type: Schema.Types.ObjectId, required: true },
  version: { type: Number, default: 0 },
});
knowledgeVersionSchema.index({ chatbotId: 1 }, { unique: true });

export type ChunkDoc = InferSchemaType<typeof chunkSchema>;

export function chunkModel(connection: Connection) {
  return connection.model('Chunk', chunkSchema, 'chunks');
}

export function knowledgeVersionModel(connection: Connection) {
  return connection.model('KnowledgeVersion', knowledgeVersionSchema, 'knowledge_versions');
}

export type ChunkModel = ReturnType<typeof chunkModel>;
/** One stored chunk as queries return it. */
export type ChunkRecord = Awaited<ReturnType<ChunkModel['findOne']>> & object;

export type KnowledgeVersionModel = ReturnType<typeof knowledgeVersionModel>;
/** One stored knowledgeVersion as queries return it. */
export type KnowledgeVersionRecord = Awaited<ReturnType<KnowledgeVersionModel['findOne']>> & object;
