import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { API_KEY_SCOPES } from '../../shared/schemas/api-keys.js';

const apiKeySchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true, index: true },
    name: { type: String, required: true, maxlength: 100 },
    /** sha256 of the whole key; the key itself is never stored. */
    hash: { type: String, required: true, unique: true },
    /** The first characters, so owners can tell keys apart. */
    prefix: { type: String, required: true },
    scopes: { type: [String], enum: API_KEY_SCOPES, required: true },
    lastUsedAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
  },
  { timestamps: true },
);
apiKeySchema.index({ organizationId: 1, createdAt: -1, _id: -1 });

export type ApiKeyDoc = InferSchemaType<typeof apiKeySchema>;

export function apiKeyModel(connection: Connection) {
  return connection.model('ApiKey', apiKeySchema, 'api_keys');
}

export type ApiKeyModel = ReturnType<typeof apiKeyModel>;
/** One stored apiKey as queries return it. */
export type ApiKeyRecord = Awaited<ReturnType<ApiKeyModel['findOne']>> & object;
