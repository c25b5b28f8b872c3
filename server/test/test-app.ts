import { randomUUID } from 'node:crypto';
import mongoose, { type Connection } from 'mongoose';
import { pino } from 'pino';
import { inject } from 'vitest';
import { startApp, type AppDeps, type RunningApp } from '../app.js';
import { parseEnv, type Config } from '../config.js';
import { connectMongo } from '../db/mongo.js';
import type { RateLimitSettings } from '../http/rate-limits.js';
import type { Logger } from '../logger.js';
import { ApiClient } from './api-client.js';
import { startFakeLlm, type FakeLlm } from './fake-llm/fake-llm.server.js';
import { UNLIMITED_RATE_ENV, UNLIMITED_WIDGET_ENV } from './unlimited-limits.js';

export { UNLIMITED_RATE_ENV };

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Limits set in code, over the environment's. */
  rateLimits?: RateLimitSettings;
  /** Where the app logs; silent by default. */
  logger?: Logger;
  /** A database server of the test's own instead of the run's shared one. */
  mongoUri?: string;
  /** The app is the only server on its database, as with the embedded engine `npm start` starts (`AppDeps.soleServer`). */
  soleServer?: boolean;
}

export interface TestOrg {
  id: string;
  adminKey: string;
  /** A client authenticated with the organization's admin key. */
  api: ApiClient;
}

export interface TestApp {
  app: RunningApp;
  url: string;
  config: Config;
  connection: Connection;
  /** Creates an organization with an admin key, as the CLI does. */
  createOrg(name?: string): Promise<TestOrg>;
  /** A client with a new key of the given scopes in `org`. */
  clientWithScopes(org: TestOrg, scopes: string[]): Promise<ApiClient>;
  /** A client sending no key at all. */
  anonymous: ApiClient;
  stop(): Promise<void>;
}

/** Starts the real app on an ephemeral port against a fresh database of its own. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dbName = `wisp_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const connection = await connectMongo(options.mongoUri ?? inject('mongoUri'), { dbName });
  const config = {
    ...parseEnv({
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
      ...UNLIMITED_WIDGET_ENV,
      ...UNLIMITED_RATE_ENV,
      ...options.env,
    }),
    SECRET_KEY: 'test-secret-key-test-secret-key-0123456789',
  };
  const app = await startApp({
    config,
    logger: options.logger ?? pino({ level: 'silent' }),
    connection,
    embeddedDatabase: true,
    soleServer: options.soleServer,
    rateLimits: options.rateLimits,
  });
  const createOrg = async (name = 'Test organization'): Promise<TestOrg> => {
    const org = await app.services.organizations.create(name);
    return { id: org.id, adminKey: org.adminKey, api: new ApiClient(app.url, org.adminKey) };
  };
  return {
    app,
    url: app.url,
    config,
    connection,
    createOrg,
    clientWithScopes: async (org, scopes) => {
      const res = await org.api.post('/api/v1/api-keys', { name: `scopes ${scopes.join(',')}`, scopes });
      return new ApiClient(app.url, (res.body.data as { key: string }).key);
    },
    anonymous: new ApiClient(app.url, null),
    stop: async () => {
      await app.stop(0);
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
    },
  };
}

/** A node `startSecondNode` started; `stop` stops it at once, then closes its connection. */
export interface SecondNode {
  app: RunningApp;
  url: string;
  /** The node's own connection to `first`'s database. */
  connection: Connection;
  stop(): Promise<void>;
}

/** Starts another node of `first`'s app on its database (and Redis, if set), as behind a load balancer. */
export async function startSecondNode(
  first: TestApp,
  deps: Partial<Pick<AppDeps, 'rateLimits' | 'config'>> = {},
): Promise<SecondNode> {
  const connection = await connectMongo(inject('mongoUri'), { dbName: first.connection.name });
  let app: RunningApp;
  try {
    app = await startApp({
      config: first.config,
      logger: pino({ level: 'silent' }),
      connection,
      embeddedDatabase: true,
      ...deps,
    });
  } catch (error) {
    await connection.close();
    throw error;
  }
  return {
    app,
    url: app.url,
    connection,
    stop: async () => {
      await app.stop(0);
      await connection.close();
    },
  };
}

/** An app answering with the test model server, with one organization and one bot. */
export interface FakeModelBot {
  fake: FakeLlm;
  t: TestApp;
  org: TestOrg;
  botId: string;
  /** Stops the app, then the model server. */
  stop(): Promise<void>;
}

/**
 * Starts the test model server and the app answering with it (`env` on top), then creates an organization
 * (`orgName`) and a bot (`bot`: its name, and its slug where a widget connects to it) through the API.
 */
export async function startFakeModelBot(options: {
  env?: Record<string, string>;
  orgName?: string;
  bot: { name: string; slug?: string };
}): Promise<FakeModelBot> {
  const fake = await startFakeLlm();
  const t = await startTestApp({
    env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: 'test', OPENAI_MODEL: 'fake-chat', ...options.env },
  });
  const org = await t.createOrg(options.orgName);
  const bot = await org.api.post<{ id: string }>('/api/v1/chatbots', options.bot);
  return {
    fake,
    t,
    org,
    botId: bot.body.data.id,
    stop: async () => {
      await t.stop();
      await fake.stop();
    },
  };
}

/** The database commands the app sends while `run` runs, as `collection.method` (mongoose's debug hook). */
export async function commandsDuring(run: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  mongoose.set('debug', (collection: string, method: string) => void seen.push(`${collection}.${method}`));
  try {
    await run();
  } finally {
    mongoose.set('debug', false);
  }
  return seen;
}
