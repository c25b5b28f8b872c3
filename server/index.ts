import type { Connection } from 'mongoose';
import type { RunningApp } from './app.js';
import { ConfigError, loadConfig, readEnvironment, type Config } from './config.js';
import { startEmbeddedDb, type EmbeddedDb } from './db/embedded-db.js';
import { embeddedDbFile, publishEmbeddedUri, withdrawEmbeddedUri } from './db/embedded-uri-file.js';
import { connectMongo, redactUri } from './db/mongo.js';
import { chooseLogFormat, createLogger, type Logger } from './logger.js';
import { ensureDemoBot } from './demo/demo-bot.js';
import { lowerHelperThreadsPriority } from './helper-thread-priority.js';

/** The composition root: config, database, app, and one shutdown path for signals and fatal errors. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(readEnvironment());
  } catch (error) {
    if (error instanceof ConfigError) fatal(error.message);
    throw error;
  }
  const logger = createLogger(
    config.LOG_LEVEL,
    undefined,
    chooseLogFormat(config.LOG_FORMAT, config.NODE_ENV, process.stdout.isTTY === true),
  );
  // V8's compiler and the garbage collector's helpers yield to the requests' thread and the database.
  logger.debug({ threads: lowerHelperThreadsPriority() }, 'helper threads at a lower priority');
  // Loaded while the database starts: the app's modules take seconds to load, and an unreachable
  // database or a missing Java should be reported without waiting for them.
  const appModule = import('./app.js');
  appModule.catch(() => undefined);
  let embedded: EmbeddedDb | null = null;
  let connection: Connection | null = null;
  let app: RunningApp | null = null;
  let shuttingDown = false;

  const shutdown = async (reason: string, exitCode: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info({ reason }, 'shutting down');
    const hardStop = setTimeout(() => process.exit(exitCode || 1), config.SHUTDOWN_GRACE_MS + 10_000);
    hardStop.unref();
    await app?.stop().catch((error: unknown) => logger.error({ err: error }, 'error while closing the server'));
    await connection
      ?.close()
      .catch((error: unknown) => logger.error({ err: error }, 'error while closing the database connection'));
    if (embedded) withdrawEmbeddedUri(config.DATA_DIR);
    await embedded?.stop();
    logger.info('stopped');
    process.exit(exitCode);
  };

  process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.once('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    void shutdown('uncaughtException', 1);
  });
  process.on('unhandledRejection', (error) => {
    logger.fatal({ err: error }, 'unhandled promise rejection');
    void shutdown('unhandledRejection', 1);
  });

  try {
    let uri = config.MONGODB_URI;
    if (!uri) {
      const file = embeddedDbFile(config.DATA_DIR);
      embedded = await startEmbeddedDb({
        file,
        onUnexpectedExit: (code, signal) => {
          logger.fatal({ code, signal }, 'The embedded database process exited unexpectedly; stopping the server');
          embedded = null;
          withdrawEmbeddedUri(config.DATA_DIR);
          void shutdown('embedded database exited', 1);
        },
      });
      uri = embedded.uri;
      // Command-line tools (npm run org / keys) use this address while the server holds the H2 file.
      publishEmbeddedUri(config.DATA_DIR, uri);
      logger.info({ file, uri }, 'embedded database started (mongo-java-server, H2)');
    }
    // The embedded database has announced its port, so it is coming: on a busy machine (or recovering its
    // file after a kill -9) its first answer can take longer than the fail-fast wait for an external one.
    connection = await connectMongo(uri, embedded ? { serverSelectionTimeoutMS: 30_000 } : {});
    logger.info({ uri: redactUri(uri) }, 'connected to the database');
    const { startApp } = await appModule;
    app = await startApp({
      config,
      logger,
      connection,
      embeddedDatabase: embedded !== null,
      // The engine started here serves this process alone (the CLI connects to it, but writes no knowledge).
      soleServer: embedded !== null,
    });
    announceFirstOrganization(await app.services.organizations.bootstrap(), logger);
    // The demo page needs a bot; production installs start without one.
    if (config.NODE_ENV !== 'production') await ensureDemoBot(app.services, logger);
    logger.info({ url: app.url }, `Wisp is listening on ${app.url}`);
    announceUrls(config.PUBLIC_URL ?? app.url, config.NODE_ENV !== 'production', logger);
  } catch (error) {
    if (embedded) withdrawEmbeddedUri(config.DATA_DIR);
    await embedded?.stop();
    const message = error instanceof Error ? error.message : String(error);
    fatal(message.split('\n')[0] ?? message);
  }
}

function announceFirstOrganization(created: { id: string; adminKey: string } | null, logger: Logger) {
  if (!created) return;
  logger.info({ organizationId: created.id }, 'created the first organization and its admin key');
  // The key goes to stdout once, outside the structured log, so it is never stored by a log collector by accident.
  process.stdout.write(
    `\nFirst start: created organization ${created.id}.\nAdmin API key (shown once, keep it safe): ${created.adminKey}\n\n`,
  );
}

/** Where a person goes next: the demo page (development only) and the API reference. */
function announceUrls(baseUrl: string, demo: boolean, logger: Logger) {
  const base = baseUrl.replace(/\/+$/, '');
  if (demo) logger.info({ demoUrl: `${base}/` }, `Demo page: ${base}/`);
  logger.info({ docsUrl: `${base}/docs` }, `API reference: ${base}/docs`);
}

/** One clear line on stderr and a non-zero exit, for problems the operator must fix. */
function fatal(message: string): never {
  process.stderr.write(`wisp: ${message}\n`);
  process.exit(1);
}

void main();
