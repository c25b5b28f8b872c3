import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/** One change of a bot's widget settings; the service keeps only the newest few per bot. */
const widgetSettingsHistorySchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    version: { type: Number, required: true },
    operation: { type: String, enum: ['replace', 'patch'], required: true },
    changedFields: { type: [String], default: [] },
    apiKeyId: { type: String, default: null },
    /** The full settings after the change, so any listed version can be read back. */
    settings: { type: Schema.Types.Mixed, required: true },
  },
  { timestamps: { createdAt: true, updatedAt: false }, minimize: false },
);
widgetSettingsHistorySchema.index({ chatbotId: 1, version: -1 }, { unique: true });

export type WidgetSettingsHistoryDoc = InferSchemaType<typeof widgetSettingsHistorySchema>;

export function widgetSettingsHistoryModel(connection: Connection) {
  return connection.model('WidgetSettingsHistory', widgetSettingsHistorySchema, 'widget_settings_history');
}

export type WidgetSettingsHistoryModel = ReturnType<typeof widgetSettingsHistoryModel>;
/** One stored widgetSettingsHistory as queries return it. */
export type WidgetSettingsHistoryRecord = Awaited<ReturnType<WidgetSettingsHistoryModel['findOne']>> & object;
