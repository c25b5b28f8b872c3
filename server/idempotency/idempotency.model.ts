import { Schema, type Connection, type InferSchemaType } from 'mongoose';

/**
 * One `Idempotency-Key` as first used: claimed (`running`) before the request runs, then the
 * response it got (`done`), replayed to a retry with the same key and body for 24 hours.
 */
const idempotencyKeySchema = new Schema(
  {
    /** Whose key it is: `org:<id>` for API keys, `ip:<address>` on public routes. */
    scope: { type: String, required: true, maxlength: 200 },
    key: { type: String, required: true, maxlength: 255 },
    /** Hash of the method, path, query and body: the same key with another request is refused. */
    fingerprint: { type: String, required: true },
    state: { type: String, enum: ['running', 'done'], required: true },
    /** A running claim older than this was left by a process that died; another request may take it over. */
    lockedUntil: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    status: { type: Number, default: null },
    /** The response body as sent (JSON text), so it is replayed byte for byte. */
    body: { type: String, default: null },
    headers: { type: Map, of: String, default: {} },
  },
  { timestamps: true },
);
idempotencyKeySchema.index({ scope: 1, key: 1 }, { unique: true });
idempotencyKeySchema.index({ expiresAt: 1 });

export type IdempotencyKeyDoc = InferSchemaType<typeof idempotencyKeySchema>;

export function idempotencyKeyModel(connection: Connection) {
  return connection.model('IdempotencyKey', idempotencyKeySchema, 'idempotency_keys');
}

export type IdempotencyKeyModel = ReturnType<typeof idempotencyKeyModel>;
/** One stored idempotencyKey as queries return it. */
export type IdempotencyKeyRecord = Awaited<ReturnType<IdempotencyKeyModel['findOne']>> & object;
