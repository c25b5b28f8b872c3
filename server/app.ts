import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import cors from 'cors';
import express, { type RequestHandler } from 'express';
import type { Connection } from 'mongoose';
import { mountAnalyticsRoutes } from './analytics/analytics.routes.js';
import { mountAgentLoopRoutes } from './agent-loops/agent-loops.routes.js';
import { mountActionRoutes } from './actions/actions.routes.js';
import { mountConfirmRoutes } from './chat/confirm.routes.js';
import { mountApiKeyRoutes } from './api-keys/api-keys.routes.js';
import { mountGapLogRoutes } from './chat/unanswered.routes.js';
import { mountChatRoutes } from './chat/chat.routes.js';
import { mountChannelRoutes } from './channels/channels.routes.js';
import { keepChannelRawBody } from './channels/raw-body.js';
import { consoleRoutes } from './console/console-assets.routes.js';
import { mountConsoleSessionRoutes } from './console/console-sessions.routes.js';
import { mountChatbotRoutes } from './chatbots/chatbots.routes.js';
import { COMPAT_ROOT_PATHS, mountCompatRoutes } from './compat/compat.routes.js';
import { mountConversationRoutes } from './conversations/conversations.routes.js';
import { mountIntegrationRoutes } from './integrations/integrations.routes.js';
import { mountLeadRoutes } from './leads/leads.routes.js';
import { mountOpenAiRoutes, OPENAI_ROOT_PATHS } from './openai-compat/openai.routes.js';
import { openAiErrorHandler } from './openai-compat/openai-errors.js';
import { mountWidgetLeadRoutes } from './widget/widget-leads.routes.js';
import type { Config } from './config.js';
import { healthRoutes } from './health/health.routes.js';
import { idempotency } from './idempotency/idempotency.middleware.js';
import { ApiRouter } from './http/api-router.js';
import { AppError } from './errors/app-error.js';
import { authenticate } from './http/authenticate.js';
import { errorHandler, notFoundHandler } from './http/error-handler.js';
import { ipRateLimit, keyRateLimit, rateLimitsFromConfig, type RateLimitSettings } from './http/rate-limits.js';
import { connectRateLimitStores } from './http/rate-limit-stores.js';
import { connectInvalidationBus, InvalidationBus } from './cache/invalidation-bus.js';
import { TRUST_PROXY } from './http/client-ip.js';
import { openCors } from './http/api-cors.js';
import { chain, whenBody } from './http/chain.js';
import { requestLog } from './http/request-log.js';
import { securityHeaders } from './http/security-headers.js';
import { findOperatorKey } from './http/validate.js';
import type { Logger } from './logger.js';
import { openApiRoutes } from './openapi/openapi.routes.js';
import { createModels, createServices, ensureCollections, type Models, type Services } from './services.js';
import { faviconRoutes } from './site/favicon.routes.js';
import { mountKnowledgeRoutes } from './knowledge/sources.routes.js';
import { mountUsageRoutes } from './usage/usage.routes.js';
import { mountWidgetConfigRoutes } from './widget/widget-config.routes.js';
import { widgetCors } from './widget/widget-cors.js';
import { mountWidgetSettingsRoutes } from './widget-settings/widget-settings.routes.js';
import { demoRoutes } from './demo/demo.routes.js';
import { WidgetAccess } from './widget/widget-access.js';
import { widgetAssetRoutes } from './widget/widget-assets.routes.js';
import { widgetIpLimit } from './widget/widget-ip-limit.js';
import { WidgetLimits, widgetLimitSettings, type WidgetLimitSettings } from './widget/widget-limits.js';
import { mountWidgetSocket } from './widget/widget.socket.js';
import { mountWebhookRoutes } from './webhooks/webhooks.routes.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  connection: Connection;
  /** True when the database is the embedded engine this process started. */
  embeddedDatabase: boolean;
  /**
   * True when no other server node uses the database (the embedded engine this process started belongs to
   * it alone): what only this process writes may then be kept between requests (the knowledge versions).
   */
  soleServer?: boolean;
  /** Overrides the limits the config sets (rate-limit tests use it). */
  rateLimits?: RateLimitSettings;
  /** The widget's flood limits; by default from the config's `WIDGET_*` settings. */
  widgetLimits?: WidgetLimitSettings;
}

export interface RunningApp {
  url: string;
  port: number;
  models: Models;
  services: Services;
  api: ApiRouter;
  httpServer: HttpServer;
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then closes what is left. */
  stop(graceMs?: number): Promise<void>;
}

/** Response headers API callers in a browser may read. */
const API_EXPOSED_HEADERS = [
  'RateLimit',
  'RateLimit-Policy',
  'Retry-After',
  'X-Request-Id',
  'Wisp-Quota-Warning',
  'Wisp-Conversation-Id',
  'Idempotent-Replayed',
];

/** Builds the app from its dependencies and listens on `config.PORT` (0 = any free port). */
export async function startApp(deps: AppDeps): Promise<RunningApp> {
  const { config, logger, connection } = deps;
  const models = createModels(connection);
  await ensureCollections(models);
  // With REDIS_URL a write on any node drops the cached copies on every node; otherwise this process's only.
  const invalidations = config.REDIS_URL
    ? await connectInvalidationBus(config.REDIS_URL, logger)
    : new InvalidationBus();
  const services = createServices(models, config, logger, invalidations, { soleServer: deps.soleServer });
  let limits = deps.rateLimits ?? rateLimitsFromConfig(config);
  // With REDIS_URL every node counts against the same limits; otherwise each process counts its own.
  const sharedStores =
    config.REDIS_URL && !limits.storeFor ? await connectRateLimitStores(config.REDIS_URL, logger) : null;
  if (sharedStores) limits = { ...limits, storeFor: sharedStores.storeFor };
  const widgetLimits = new WidgetLimits(deps.widgetLimits ?? widgetLimitSettings(config), logger, limits.storeFor);

  const api = new ApiRouter({
    authenticate: authenticate(
      services.apiKeys,
      ipRateLimit(limits, 'auth-failures', logger),
      services.consoleSessions,
    ),
    keyRateLimit: keyRateLimit(limits, logger),
    publicRateLimit: ipRateLimit(limits, 'public', logger),
    idempotency: idempotency(services.idempotency),
  });
  // The one gate of the widget's public doors (config, leads, CORS, socket).
  const widgetAccess = new WidgetAccess(services.widgetSettings, services.visitorTokens);
  mountApiRoutes(api, services, config, widgetAccess, widgetLimits);

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', TRUST_PROXY);
  // One short line per request (id, method, URL, status, time); the id is returned as X-Request-Id.
  app.use(requestLog(logger, (url) => url === '/healthz' || url === '/readyz'));
  app.use(securityHeaders({ crossOriginResourcePolicy: { policy: 'cross-origin' } }));
  app.use(healthRoutes(connection, deps.embeddedDatabase));

  let publicUrl = config.PUBLIC_URL ?? '';
  app.use(openApiRoutes(api, () => publicUrl));
  // API routes are called from any origin with a key and never with cookies.
  const apiCors = openCors({
    allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id', 'Idempotency-Key'],
    exposedHeaders: API_EXPOSED_HEADERS,
    maxAge: 600,
  });
  // One layer: the router matches `/api/v1` and trims it once, for the middleware and the routes together.
  app.use(
    '/api/v1',
    chain(
      // The widget's public paths answer CORS per bot (its allowed origins); every other path gets the open policy.
      widgetCors(widgetAccess, apiCors),
      whenBody(express.json({ limit: '1mb', verify: keepChannelRawBody })),
      rejectOperatorKeys,
      api.router,
    ),
  );
  // The compatibility dialects' own paths get the same chain as `/api/v1`.
  app.use(COMPAT_ROOT_PATHS, apiCors, express.json({ limit: '1mb' }), rejectOperatorKeys);
  // OpenAI's clients send headers of their own (`X-Stainless-*`): the preflight allows what they ask for.
  app.use(OPENAI_ROOT_PATHS, cors({ origin: '*', exposedHeaders: API_EXPOSED_HEADERS, maxAge: 600 }));
  // No operator-key check here: OpenAI clients send JSON Schemas (`$defs`, `$ref`) in `tools` and
  // `response_format`, which the door ignores; the fields it keeps are checked by their schemas.
  app.use(OPENAI_ROOT_PATHS, express.json({ limit: '1mb' }));
  app.use(api.rootRouter);
  app.use(widgetAssetRoutes());
  app.use(consoleRoutes());
  app.use(faviconRoutes());
  // The demo site is for trying Wisp locally; production servers answer 404 at `/`.
  if (config.NODE_ENV !== 'production') app.use(demoRoutes(services, config.PUBLIC_URL));
  app.use(api.methodNotAllowed());
  app.use(notFoundHandler);
  app.use(OPENAI_ROOT_PATHS, openAiErrorHandler(logger));
  app.use(errorHandler(logger));

  const httpServer = createServer(app);
  const widgetSocket = await mountWidgetSocket({
    httpServer,
    services,
    config,
    logger,
    limits: widgetLimits,
    access: widgetAccess,
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.PORT, config.HOST, () => resolve());
  });
  const { port } = httpServer.address() as AddressInfo;
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  publicUrl ||= url;
  services.channels.serveAt(publicUrl);
  // Said once at start, so nobody runs the demo page in production without knowing.
  if (config.NODE_ENV !== 'production') {
    logger.info({ url: `${publicUrl}/` }, `demo page enabled at ${publicUrl}/ because NODE_ENV is not production`);
  }
  await services.knowledge.start();
  services.webhooks.start();
  // Answers a crashed server left pending become failed (keeping their text), now and from time to time.
  await services.answerLeases.start();
  services.channelReplies.start();
  services.agentLoops.start();
  // History from before the rollups were kept is rolled up in the background; stopped updates are recomputed.
  services.rollups.start();

  return {
    url,
    port,
    models,
    services,
    api,
    httpServer,
    stop: async (graceMs = config.SHUTDOWN_GRACE_MS) => {
      // Both drain at once within the grace period; the widget sockets must be gone for the HTTP server to close.
      await Promise.all([widgetSocket.close(graceMs), closeServer(httpServer, graceMs)]);
      widgetLimits.close();
      // The knowledge worker hands its jobs back while the database is still open.
      await Promise.all([
        services.knowledge.stop(),
        services.webhooks.stop(),
        services.channelReplies.stop(),
        services.agentLoops.stop(),
        services.rollups.stop(),
      ]);
      services.answerLeases.stop();
      await sharedStores?.close();
      await invalidations.close();
    },
  };
}

/** Mounts every route of the API on `api`: the server's, and the OpenAPI document's (exported without a server). */
export function mountApiRoutes(
  api: ApiRouter,
  services: Services,
  config: Config,
  widgetAccess: WidgetAccess,
  widgetLimits: WidgetLimits,
): void {
  mountApiKeyRoutes(api, services.apiKeys);
  mountConsoleSessionRoutes(api, services.consoleSessions);
  mountChatbotRoutes(api, services.chatbots);
  mountUsageRoutes(api, services.usage);
  mountIntegrationRoutes(api, services.integrations);
  mountChatRoutes(api, services.chat);
  mountGapLogRoutes(api, services.chatbots, services.unanswered, services.knowledge.sources);
  mountConversationRoutes(api, services.conversations, services.chatbots);
  mountWidgetSettingsRoutes(api, services.widgetSettings);
  mountWidgetConfigRoutes(api, widgetAccess, services.widgetSettings, widgetIpLimit(widgetLimits, 'config'));
  mountLeadRoutes(api, services.leads, services.chatbots);
  mountAnalyticsRoutes(api, services.analytics);
  mountKnowledgeRoutes(api, services.knowledge, config.KNOWLEDGE_MAX_UPLOAD_BYTES);
  mountWidgetLeadRoutes(api, widgetAccess, services.leads, widgetIpLimit(widgetLimits, 'leads'));
  mountWebhookRoutes(api, services.webhooks.service);
  // Before the compatibility dialects: their `/chat/:slug` would take `/chat/confirm`.
  mountConfirmRoutes(api, services.chat);
  mountActionRoutes(api, services.actions);
  mountAgentLoopRoutes(api, services.agentLoops);
  mountCompatRoutes(api, services, config);
  mountOpenAiRoutes(api, services.chat, services.chatbots);
  mountChannelRoutes(api, services.channels, services.channelReplies);
}

/** Keys like `$gt` or `a.b` anywhere in a JSON body are refused before any handler sees them. */
const rejectOperatorKeys: RequestHandler = (req, _res, next) => {
  const key = findOperatorKey(req.body);
  if (!key) return next();
  next(
    new AppError('ValidationError', {
      message: `Field names may not start with "$" or contain ".": "${key.slice(0, 40)}"`,
      details: { fields: [{ path: key.slice(0, 40), message: 'operator-like keys are not allowed' }] },
    }),
  );
};

function closeServer(server: HttpServer, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
