import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/** An organization's OpenAI-compatible model connection; the key is encrypted with SECRET_KEY. */
const integrationSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true, maxlength: 100 },
    baseUrl: { type: String, required: true },
    apiKeyEncrypted: { type: String, required: true },
    chatModel: { type: String, default: null },
    embeddingModel: { type: String, default: null },
  },
  { timestamps: true },
);
integrationSchema.index({ organizationId: 1, createdAt: -1, _id: -1 });

export type IntegrationDoc = InferSchemaType<typeof integrationSchema>;

export function integrationModel(connection: Connection) {
  return connection.model('Integration', integrationSchema, 'integrations');
}

export type IntegrationModel = ReturnType<typeof integrationModel>;
/** One stored integration as queries return it. */
export type IntegrationRecord = Awaited<ReturnType<IntegrationModel['findOne']>> & object;
