import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { SOURCE_STAGES } from '../../shared/schemas/sources.js';

const sourceSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    type: { type: String, enum: ['text', 'url', 'file'], required: true },
    title: { type: String, required: true, maxlength: 200 },
    /** False when the title came from the page or file, so processing may replace it. */
    titleFromUser: { type: Boolean, default: true },
    status: { type: String, enum: ['queued', 'processing', 'ready', 'failed'], default: 'queued' },
    failureReason: { type: String, default: null },
    /** Where a processing run is (fetching, chunking, embedding); only meaningful while `processing`. */
    stage: { type: String, enum: SOURCE_STAGES, default: null },
    url: { type: String, default: null },
    crawl: {
      type: new Schema({ mode: String, maxPages: Number }, { _id: false }),
      default: null,
    },
    finalUrl: { type: String, default: null },
    lastFetchedAt: { type: Date, default: null },
    file: {
      type: new Schema({ name: String, mimeType: String, size: Number }, { _id: false }),
      default: null,
    },
    characters: { type: Number, default: 0 },
    chunks: { type: Number, default: 0 },
    pages: { type: Number, default: 0 },
    /** The pages a crawl or sitemap took and skipped (with why), from its last successful run. */
    pageOutcomes: {
      type: [new Schema({ url: String, status: String, reason: String }, { _id: false })],
      default: [],
    },
    attempts: { type: Number, default: 0 },
    /** The processing run that owns the source now; a run whose id no longer matches has been superseded. */
    currentRun: { type: String, default: null },
    /** The run whose chunks answer questions; chunks of any other run are leftovers. */
    activeRun: { type: String, default: null },
    /** Bumped on every write that needs reprocessing, so a finished older run cannot mark a newer write done. */
    revision: { type: Number, default: 1 },
    readyAt: { type: Date, default: null },
  },
  { timestamps: true, minimize: false },
);
sourceSchema.index({ chatbotId: 1, createdAt: -1, _id: -1 });
sourceSchema.index({ organizationId: 1, chatbotId: 1, status: 1 });

/** The raw input of a source (text or uploaded bytes), kept apart so listings never load it. */
const sourceContentSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    sourceId: { type: Schema.Types.ObjectId, required: true },
    text: { type: String, default: null },
    data: { type: Buffer, default: null },
    mimeType: { type: String, default: null },
  },
  { timestamps: true },
);
sourceContentSchema.index({ sourceId: 1 }, { unique: true });
sourceContentSchema.index({ chatbotId: 1 });

export type SourceDoc = InferSchemaType<typeof sourceSchema>;

export function sourceModel(connection: Connection) {
  return connection.model('Source', sourceSchema, 'sources');
}

export function sourceContentModel(connection: Connection) {
  return connection.model('SourceContent', sourceContentSchema, 'source_contents');
}

export type SourceModel = ReturnType<typeof sourceModel>;
/** One stored source as queries return it. */
export type SourceRecord = Awaited<ReturnType<SourceModel['findOne']>> & object;

export type SourceContentModel = ReturnType<typeof sourceContentModel>;
/** One stored sourceContent as queries return it. */
export type SourceContentRecord = Awaited<ReturnType<SourceContentModel['findOne']>> & object;
