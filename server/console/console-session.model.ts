import { Schema, type Connection } from 'mongoose';
import { API_KEY_SCOPES } from '../../shared/schemas/api-keys.js';

const consoleSessionSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    /** sha256 of the cookie's token; the token itself is never stored. */
    tokenHash: { type: String, required: true, unique: true },
    /** The key whose scopes the session has (checked on every request); null when opened by a one-time link. */
    keyId: { type: Schema.Types.ObjectId, default: null },
    /** The scopes of a link session (a key session reads its key's). */
    scopes: { type: [String], enum: API_KEY_SCOPES, default: [] },
    userAgent: { type: String, default: null, maxlength: 300 },
    expiresAt: { type: Date, required: true },
    lastUsedAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
  },
  { timestamps: true },
);
consoleSessionSchema.index({ organizationId: 1, createdAt: -1, _id: -1 });

/** A one-time sign-in link the operator prints from the command line. */
const consoleLinkSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    tokenHash: { type: String, required: true, unique: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date, default: null },
  },
  { timestamps: true },
);

export function consoleSessionModel(connection: Connection) {
  return connection.model('ConsoleSession', consoleSessionSchema, 'console_sessions');
}

export function consoleLinkModel(connection: Connection) {
  return connection.model('ConsoleLink', consoleLinkSchema, 'console_links');
}

export type ConsoleSessionModel = ReturnType<typeof consoleSessionModel>;
export type ConsoleLinkModel = ReturnType<typeof consoleLinkModel>;
