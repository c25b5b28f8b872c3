import { Schema, type Connection, type InferSchemaType } from 'mongoose';

const chatbotSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true, maxlength: 100 },
    slug: { type: String, required: true, maxlength: 60 },
    instructions: { type: String, default: '', maxlength: 8000 },
    modelSettings: {
      integrationId: { type: Schema.Types.ObjectId, default: null },
      model: { type: String, default: null },
      temperature: { type: Number, default: 0.3 },
      maxTokens: { type: Number, default: 800 },
    },
    allowedOrigins: { type: [String], default: [] },
    status: { type: String, enum: ['active', 'disabled'], default: 'active' },
    /** HS256 secret for end-user tokens, encrypted with SECRET_KEY (it must be readable to verify). */
    identitySecretEncrypted: { type: String, required: true },
    /** Owner-tuned widget appearance and behaviour; shape owned by the widget settings schema. */
    widgetSettings: { type: Schema.Types.Mixed, default: () => ({}) },
    widgetSettingsVersion: { type: Number, default: 1 },
  },
  { timestamps: true, minimize: false },
);
// A slug is the bot's public widget address (`data-bot="acme-support"`), so it is unique across organizations.
chatbotSchema.index({ slug: 1 }, { unique: true });
chatbotSchema.index({ organizationId: 1, createdAt: -1, _id: -1 });

export type ChatbotDoc = InferSchemaType<typeof chatbotSchema>;

export function chatbotModel(connection: Connection) {
  return connection.model('Chatbot', chatbotSchema, 'chatbots');
}

export type ChatbotModel = ReturnType<typeof chatbotModel>;
/** One stored chatbot as queries return it. */
export type ChatbotRecord = Awaited<ReturnType<ChatbotModel['findOne']>> & object;
