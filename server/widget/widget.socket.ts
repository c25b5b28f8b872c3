import { setMaxListeners } from 'node:events';
import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { Server } from 'socket.io';
import {
  WIDGET_NAMESPACE,
  type WidgetClientEvents,
  type WidgetServerEvents,
  type WidgetSocketData,
} from '../../shared/socket-events.js';
import type { Config } from '../config.js';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';
import { clientIp, clientIpKey } from '../http/client-ip.js';
import type { WidgetAccess } from './widget-access.js';
import { registerWidgetHandlers } from './widget-handlers.js';
import { TurnAdmission } from './turn-admission.js';
import { acceptHandshake, handshakeError, type WidgetSocket } from './widget-handshake.js';
import { botRoom, visitorRoom, type WidgetNamespace } from './widget-hub.js';
import type { WidgetLimits } from './widget-limits.js';
import { closeRedis, connectRedis, type RedisClient } from '../redis/redis-client.js';

export interface WidgetSocketDeps {
  httpServer: HttpServer;
  services: Services;
  config: Pick<Config, 'REDIS_URL' | 'WIDGET_TURN_CONCURRENCY'>;
  logger: Logger;
  limits: WidgetLimits;
  /** The gate every public widget door asks: bot, origin, visitor. */
  access: WidgetAccess;
}

export interface WidgetSocketServer {
  /**
   * Refuses new messages, lets running answers stream for up to `graceMs` (those still running
   * then are stored as failed), disconnects every widget and releases Redis; leaves the HTTP
   * server to its owner.
   */
  close(graceMs: number): Promise<void>;
}

/** How long a dropped widget's session (rooms, data, missed events) is kept for it to resume. */
const RECOVERY_WINDOW_MS = 2 * 60_000;

/**
 * Starts Socket.IO on the app's HTTP server with the widget namespace. Engine-level CORS lets any
 * origin reach the handshake because the bot (and so its allowed origins) is only known from the
 * handshake's `auth`; the namespace middleware then refuses origins the bot does not allow.
 */
export async function mountWidgetSocket(deps: WidgetSocketDeps): Promise<WidgetSocketServer> {
  const { httpServer, services, logger } = deps;
  const io = new Server<WidgetClientEvents, WidgetServerEvents, Record<string, never>, WidgetSocketData>(httpServer, {
    cors: { origin: true, methods: ['GET', 'POST'], credentials: false },
    maxHttpBufferSize: 256 * 1024,
    // Answers are small JSON frames: compressing each costs more CPU (and zlib memory per socket) than it saves.
    perMessageDeflate: false,
    connectionStateRecovery: { maxDisconnectionDuration: RECOVERY_WINDOW_MS, skipMiddlewares: true },
  });
  let redis: RedisClient | null = null;
  if (deps.config.REDIS_URL) {
    // Its own connection: the streams adapter blocks on XREAD. Commands queue through a blip.
    redis = await connectRedis(deps.config.REDIS_URL, logger, 'widget socket', { offlineQueue: true });
    io.adapter(createAdapter(redis));
  }

  const namespace: WidgetNamespace = io.of(WIDGET_NAMESPACE);
  const stopping = new AbortController();
  // Every running turn follows this signal (one listener each, removed when it ends): no leak at hundreds at once.
  setMaxListeners(0, stopping.signal);
  let draining = false;
  // Answers still streaming; close() waits for them so each is stored before the database closes.
  const turns = new Set<Promise<void>>();
  const visitorTokens = new WeakMap<WidgetSocket, string>();
  // WIDGET_TURN_CONCURRENCY (16 by default): a turn's storing phase is a few database round trips, so
  // 16 keep the connection pool (20) busy without every turn of a burst waiting behind every other
  // one. Not much lower: a resent message waits up to 2 s for its first answer while holding its place.
  const admission = new TurnAdmission(deps.config.WIDGET_TURN_CONCURRENCY);

  namespace.use((socket, next) => {
    // Counted before anything is looked up, so a flood of handshakes costs no database work.
    deps.limits
      .take([['connects', clientIpKey(clientIp(socket.request))]])
      .then(() => acceptHandshake(socket, services, deps.access))
      .then(
        ({ visitorToken }) => {
          visitorTokens.set(socket, visitorToken);
          next();
        },
        (error: unknown) => {
          if (!(error instanceof AppError)) logger.error({ err: error }, 'widget handshake failed');
          const appError = error instanceof AppError ? error : new AppError('InternalError');
          next(handshakeError(appError.name, appError.message, appError.details));
        },
      );
  });

  namespace.on('connection', (socket) => {
    const { chatbotId, visitorId, conversationId } = socket.data;
    // A recovered socket kept its rooms and data; a new one joins them now.
    if (!socket.recovered) void socket.join([botRoom(chatbotId), visitorRoom(chatbotId, visitorId)]);
    const visitorToken = visitorTokens.get(socket) ?? services.visitorTokens.issue(chatbotId, visitorId);
    socket.emit('session', { visitorId, visitorToken, conversationId });
    registerWidgetHandlers(socket, {
      services,
      access: deps.access,
      namespace,
      logger,
      limits: deps.limits,
      ipKey: clientIpKey(clientIp(socket.request)),
      draining: () => draining,
      signal: stopping.signal,
      admission,
      track: (turn) => {
        turns.add(turn);
        void turn.finally(() => turns.delete(turn));
      },
    });
  });
  services.widgetHub.attach(namespace);

  return {
    close: async (graceMs) => {
      services.widgetHub.attach(null);
      draining = true;
      // Running answers stream on to the end, as SSE streams do, within the grace period.
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.allSettled([...turns]), graceOver]);
      clearTimeout(timer);
      // Those still running are aborted and marked failed (a retry answers again at once), while the database is open.
      stopping.abort(new Error('server stopping'));
      await Promise.allSettled([...turns]);
      namespace.local.disconnectSockets(true);
      // io.close() would also close the HTTP server, cutting short its graceful drain.
      namespace.adapter.close();
      io.of('/').adapter.close();
      io.engine.close();
      await closeRedis(redis).catch(() => undefined);
    },
  };
}
