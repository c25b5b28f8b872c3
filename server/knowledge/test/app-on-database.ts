import type { Connection } from 'mongoose';
import { pino } from 'pino';
import { inject } from 'vitest';
import { startApp, type RunningApp } from '../../app.js';
import { parseEnv } from '../../config.js';
import { connectMongo } from '../../db/mongo.js';
import { UNLIMITED_RATE_ENV } from '../../test/test-app.js';

export interface AppOnDatabase {
  app: RunningApp;
  connection: Connection;
  /** Stops the app (its worker hands jobs back) and closes its connection, leaving the data. */
  stop(): Promise<void>;
}

/**
 * Starts the real app on a named database, so a test can stop it and start another
 * process's worth of app on the same data, as a restart does.
 */
export async function startAppOnDatabase(dbName: string, env: Record<string, string>): Promise<AppOnDatabase> {
  const connection = await connectMongo(inject('mongoUri'), { dbName });
  const config = {
    ...parseEnv({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', NODE_ENV: 'test', ...UNLIMITED_RATE_ENV, ...env }),
    SECRET_KEY: 'test-secret-key-test-secret-key-0123456789',
  };
  const app = await startApp({
    config,
    logger: pino({ level: 'silent' }),
    connection,
    embeddedDatabase: true,
  });
  return {
    app,
    connection,
    stop: async () => {
      await app.stop(0);
      await connection.close();
    },
  };
}
