import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mongoose';
import type { Config } from '../config.js';
import { startEmbeddedDb, type EmbeddedDb } from '../db/embedded-db.js';
import { embeddedDbFile, readEmbeddedUri } from '../db/embedded-uri-file.js';
import { createModels, ensureCollections, type Models } from '../services.js';
import { connectMongo } from '../db/mongo.js';
import { CliError } from './cli-error.js';

export interface CliDatabase {
  models: Models;
  /** Where the data is, for one line of output. */
  description: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Allow starting a new, empty database (`--create-database`); otherwise a missing one is refused. */
  createDatabase?: boolean;
}

const HOW_TO_PROCEED =
  'Run this with the server’s DATA_DIR (or MONGODB_URI), or pass --create-database to create a new empty database there';

/**
 * Opens the database the server uses: MONGODB_URI; else the embedded database a running
 * server published in DATA_DIR; else the embedded database started here on the same H2 file.
 * A database that does not exist yet is refused unless `createDatabase` is set: an operator who
 * forgot the server's DATA_DIR would otherwise create an organization nobody serves.
 */
export async function openCliDatabase(config: Config, options: OpenOptions = {}): Promise<CliDatabase> {
  let connection: Connection | null = null;
  let embedded: EmbeddedDb | null = null;
  let description: string;
  if (config.MONGODB_URI) {
    connection = await connectMongo(config.MONGODB_URI);
    description = 'MONGODB_URI';
    // A server creates every collection at start, so a database without any was never used by one.
    const collections = await connection.db!.listCollections({}, { nameOnly: true }).toArray();
    if (collections.length === 0 && !options.createDatabase) {
      await connection.close();
      throw new CliError(
        `The database "${connection.name}" at MONGODB_URI is empty (no server has used it). ${HOW_TO_PROCEED}`,
      );
    }
  } else {
    const published = readEmbeddedUri(config.DATA_DIR);
    // A published address can be stale when the server was killed; it is only used if it answers.
    if (published) connection = await connectMongo(published, { serverSelectionTimeoutMS: 2_000 }).catch(() => null);
    if (connection) {
      description = 'the running server’s embedded database';
    } else {
      const file = embeddedDbFile(config.DATA_DIR);
      if (!existsSync(file) && !options.createDatabase) {
        throw new CliError(
          `No database in DATA_DIR ${path.resolve(config.DATA_DIR)} (no ${path.basename(file)} there and no server running on it). ${HOW_TO_PROCEED}`,
        );
      }
      try {
        embedded = await startEmbeddedDb({ file });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new CliError(
          `Cannot open the embedded database ${file} (${reason}). If a server is using it, start that server again so it publishes its address, stop it, or set MONGODB_URI`,
        );
      }
      connection = await connectMongo(embedded.uri);
      description = `the embedded database ${file}`;
    }
  }
  const models = createModels(connection);
  await ensureCollections(models);
  const opened = connection;
  return {
    models,
    description,
    close: async () => {
      await opened.close();
      await embedded?.stop();
    },
  };
}
