import { pino } from 'pino';
import { startApp, type RunningApp } from '../../server/app.js';
import { parseEnv, type Config } from '../../server/config.js';
import { startEmbeddedDb } from '../../server/db/embedded-db.js';
import { connectMongo } from '../../server/db/mongo.js';
import type { RateLimitSettings } from '../../server/http/rate-limits.js';

export interface LocalWisp {
  app: RunningApp;
  config: Config;
  stop(): Promise<void>;
}

/** A real Wisp server on the embedded database (in memory) and a free loopback port, logging nothing. */
export async function startLocalWisp(
  env: Record<string, string> = {},
  rateLimits?: RateLimitSettings,
): Promise<LocalWisp> {
  const db = await startEmbeddedDb();
  try {
    const connection = await connectMongo(db.uri, { serverSelectionTimeoutMS: 30_000 });
    const config: Config = {
      ...parseEnv({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', NODE_ENV: 'test', ...env }),
      SECRET_KEY: 'local-wisp-secret-key-local-wisp-secret-key',
    };
    const app = await startApp({
      config,
      logger: pino({ level: 'silent' }),
      connection,
      embeddedDatabase: true,
      rateLimits,
    });
    return {
      app,
      config,
      stop: async () => {
        await app.stop(0);
        await connection.close();
        await db.stop();
      },
    };
  } catch (error) {
    await db.stop();
    throw error;
  }
}
