import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * One bot's figures for one UTC day, cut in quarter hours (see `DayRollup` in tally.ts), computed from the raw
 * records. Looked up by `key` (`<chatbotId>:<YYYY-MM-DD>`) only: the embedded engine answers exact lookups on
 * a unique index without scanning, and scans for everything else.
 */
const analyticsDaySchema = new Schema(
  {
    key: { type: String, required: true },
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    day: { type: Date, required: true },
    /** When the raw records this was computed from were read: a later computation replaces it, an earlier never. */
    computedAt: { type: Date, required: true },
    slots: { type: [Schema.Types.Mixed], default: [] },
    slotTops: { type: [Schema.Types.Mixed], default: [] },
    tops: { type: Schema.Types.Mixed, default: () => ({}) },
  },
  { minimize: false, versionKey: false },
);
analyticsDaySchema.index({ key: 1 }, { unique: true });
analyticsDaySchema.index({ chatbotId: 1 });

/**
 * A UTC day of a bot whose raw records changed since its rollup was computed. `version` grows with each
 * change, so a reader that recomputed the day removes the mark only if nothing changed meanwhile.
 */
const analyticsMarkSchema = new Schema(
  {
    key: { type: String, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    day: { type: Date, required: true },
    version: { type: Number, default: 0 },
  },
  { versionKey: false },
);
analyticsMarkSchema.index({ key: 1 }, { unique: true });

/** A bot whose whole history has been rolled up once; later changes arrive as marks. */
const analyticsBuildSchema = new Schema(
  {
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    builtAt: { type: Date, required: true },
  },
  { versionKey: false },
);
analyticsBuildSchema.index({ chatbotId: 1 }, { unique: true });

export type AnalyticsDayDoc = InferSchemaType<typeof analyticsDaySchema>;

export function analyticsModels(connection: Connection) {
  return {
    AnalyticsDay: connection.model('AnalyticsDay', analyticsDaySchema, 'analytics_days'),
    AnalyticsMark: connection.model('AnalyticsMark', analyticsMarkSchema, 'analytics_marks'),
    AnalyticsBuild: connection.model('AnalyticsBuild', analyticsBuildSchema, 'analytics_builds'),
  };
}

export type AnalyticsModels = ReturnType<typeof analyticsModels>;
