import type { Connection } from 'mongoose';
import type { Config } from '../config.js';
import { startEmbeddedDb, type EmbeddedDb } from '../db/embedded-db.js';
import { embeddedDbFile, readEmbeddedUri } from '../db/embedded-uri-file.js';
import { createModels, ensureCollections, type Models } from '../db/models.js';
import { connectMongo } from '../db/mongo.js';
import { CliError } from './cli-error.js';

export interface CliDatabase {
  models: Models;
  /** Where the data is, for one line of output. */
  description: string;
  close(): Promise<void>;
}

/**
 * Opens the database the server uses: MONGODB_URI; else the embedded database a running
 * server published in DATA_DIR; else the embedded database started here on the same H2 file.
 */
export async function openCliDatabase(config: Config): Promise<CliDatabase> {
  let connection: Connection | null = null;
  let embedded: EmbeddedDb | null = null;
  let description: string;
  if (config.MONGODB_URI) {
    connection = await connectMongo(config.MONGODB_URI);
    description = 'MONGODB_URI';
  } else {
    const published = readEmbeddedUri(config.DATA_DIR);
    // A published address can be stale when the server was killed; it is only used if it answers.
    if (published) connection = await connectMongo(published, { serverSelectionTimeoutMS: 2_000 }).catch(() => null);
    if (connection) {
      description = 'the running server’s embedded database';
    } else {
      const file = embeddedDbFile(config.DATA_DIR);
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
