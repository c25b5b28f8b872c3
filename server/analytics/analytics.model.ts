import { Schema, type Connection } from 'mongoose';

/**
 * One shard of one bot's figures for one UTC day (the figures of the conversations whose visitor falls in it; the
 * day is the sum of its shards), kept up to date as records change with atomic `$inc` updates (see
 * `addToUpdates` in contribution.ts): `s.q<quarter>.<door>` holds counters (`n`), a latency histogram in
 * fixed buckets (`lat`) and visitors (`vis`, counted per key); `t.q<quarter>.<door>` and `dt.<door>` the top
 * lists of the quarter and of the day as counted maps; `wqs`/`wgaps` the wordings and `si` the sources' titles.
 * Looked up by `key` (`<chatbotId>:<YYYY-MM-DD>:<shard>`, or `<chatbotId>:<YYYY-MM-DD>` for a day stored whole
 * before shards) only: the embedded engine answers exact lookups on a unique index without scanning.
 */
const analyticsDaySchema = new Schema(
  {
    key: { type: String, required: true },
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    day: { type: Date, required: true },
    /** Grows with every update: a reconciliation writes its recomputed day only if nothing changed meanwhile. */
    rev: { type: Number, default: 0 },
    s: { type: Schema.Types.Mixed, default: () => ({}) },
    t: { type: Schema.Types.Mixed, default: () => ({}) },
    dt: { type: Schema.Types.Mixed, default: () => ({}) },
    wqs: { type: Schema.Types.Mixed, default: () => ({}) },
    wgaps: { type: Schema.Types.Mixed, default: () => ({}) },
    si: { type: Schema.Types.Mixed, default: () => ({}) },
  },
  { minimize: false, versionKey: false },
);
analyticsDaySchema.index({ key: 1 }, { unique: true });
analyticsDaySchema.index({ chatbotId: 1, day: 1 });

/**
 * What each record of one conversation has added to the rollups (`e.c` the conversation, `e.m<id>` each
 * message: a `Contribution`). A change applies the difference to the days; a repeated event finds nothing
 * to apply. `v` grows with each change, so two writers of one conversation never both apply a difference.
 */
const analyticsFactSchema = new Schema(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    v: { type: Number, default: 0 },
    e: { type: Schema.Types.Mixed, default: () => ({}) },
  },
  { minimize: false, versionKey: false },
);
analyticsFactSchema.index({ chatbotId: 1 });

/**
 * A bot's UTC day being updated: `pending` counts updates under way (raised before, lowered after). One left
 * raised for longer than the lease means an update stopped halfway (a crash, a failed write): the day is then
 * recomputed from the raw records in the background.
 */
const analyticsMarkSchema = new Schema(
  {
    key: { type: String, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    organizationId: { type: Schema.Types.ObjectId, required: true },
    day: { type: Date, required: true },
    pending: { type: Number, default: 0 },
    touchedAt: { type: Date, required: true },
  },
  { versionKey: false },
);
analyticsMarkSchema.index({ key: 1 }, { unique: true });

/** A bot whose history from before the rollups were kept up to date has been rolled up once (in the background). */
const analyticsBuildSchema = new Schema(
  {
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    builtAt: { type: Date, default: null },
  },
  { versionKey: false },
);
analyticsBuildSchema.index({ chatbotId: 1 }, { unique: true });

/**
 * One running server's rollup updates: `heartbeatAt` is renewed while it runs, `stoppedAt` set when it stops
 * cleanly. A run that stopped beating without stopping may have written records whose update never came (a
 * kill between the write and its event): the records changed around its last beat are applied again.
 */
const analyticsRunSchema = new Schema(
  {
    _id: { type: String, required: true },
    startedAt: { type: Date, required: true },
    heartbeatAt: { type: Date, required: true },
    stoppedAt: { type: Date, default: null },
  },
  { versionKey: false },
);

export function analyticsModels(connection: Connection) {
  return {
    AnalyticsDay: connection.model('AnalyticsDay', analyticsDaySchema, 'analytics_days'),
    AnalyticsFact: connection.model('AnalyticsFact', analyticsFactSchema, 'analytics_facts'),
    AnalyticsMark: connection.model('AnalyticsMark', analyticsMarkSchema, 'analytics_marks'),
    AnalyticsBuild: connection.model('AnalyticsBuild', analyticsBuildSchema, 'analytics_builds'),
    AnalyticsRun: connection.model('AnalyticsRun', analyticsRunSchema, 'analytics_runs'),
  };
}

export type AnalyticsModels = ReturnType<typeof analyticsModels>;
