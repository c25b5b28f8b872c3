import mongoose, { type Connection } from 'mongoose';

export interface ConnectOptions {
  /** Overrides the database named in the URI (tests use one database per file). */
  dbName?: string;
  serverSelectionTimeoutMS?: number;
}

/** A database that could not be reached at boot, with a one-line message for the operator. */
export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
}

/**
 * Opens one mongoose connection and fails fast when the server does not answer.
 * After boot the driver's own monitoring reconnects through blips.
 */
export async function connectMongo(uri: string, options: ConnectOptions = {}): Promise<Connection> {
  const connection = mongoose.createConnection(uri, {
    dbName: options.dbName,
    // Also bounds the boot attempt: an unreachable database stops the server well within 15 s, even on a busy machine.
    serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5_000,
    // Collections and indexes are created explicitly at boot, before serving: the embedded engine races on implicit creation.
    autoCreate: false,
    autoIndex: false,
    maxPoolSize: 20,
  });
  try {
    await connection.asPromise();
  } catch (error) {
    await connection.close().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new DatabaseUnreachableError(`Cannot reach the database at ${redactUri(uri)}: ${reason}`);
  }
  return connection;
}

/** Hides credentials in a connection string before it is logged. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/([^@/]+)@/, '//***@');
}

/** What `/readyz` reports about the database. */
export interface DatabaseInfo {
  engine: string;
  version: string;
}

/** Pings the database and reads its engine and version; throws when it does not answer. */
export async function describeDatabase(connection: Connection, embedded: boolean): Promise<DatabaseInfo> {
  const db = connection.db;
  if (!db) throw new Error('not connected');
  const admin = db.admin();
  await admin.ping();
  const info = await admin.buildInfo();
  const version = typeof info.version === 'string' ? info.version : 'unknown';
  return { engine: embedded ? 'mongo-java-server (H2)' : 'MongoDB', version };
}
