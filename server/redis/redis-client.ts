import { createClient } from 'redis';
import type { Logger } from '../logger.js';

export type RedisClient = ReturnType<typeof createRedisClient>;

function createRedisClient(url: string, offlineQueue: boolean, connected: () => boolean) {
  return createClient({
    url,
    // Without the offline queue a Redis outage fails a command at once instead of holding it.
    disableOfflineQueue: !offlineQueue,
    socket: {
      connectTimeout: 5_000,
      reconnectStrategy: (retries: number, cause: Error) =>
        connected() || retries < 3 ? Math.min(retries * 200 + 100, 5_000) : cause,
    },
  });
}

/** A Redis that could not be reached at boot, with a one-line message for the operator. */
export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
}

/**
 * The one way the server connects to Redis (rate limits, the widget socket adapter): a few quick
 * retries at boot and then a clear failure, and once connected, reconnection through blips.
 * `purpose` names the connection in logs.
 */
export async function connectRedis(
  url: string,
  logger: Logger,
  purpose: string,
  options: { offlineQueue?: boolean } = {},
): Promise<RedisClient> {
  let connectedOnce = false;
  const client = createRedisClient(url, options.offlineQueue === true, () => connectedOnce);
  // The client reconnects by itself; an unhandled 'error' event would end the process instead.
  client.on('error', (error: unknown) => logger.warn({ err: error }, `${purpose} Redis connection error`));
  try {
    await client.connect();
    connectedOnce = true;
  } catch (error) {
    client.destroy();
    const reason = error instanceof Error ? error.message : String(error);
    throw new RedisUnreachableError(`Cannot reach Redis at ${url.replace(/\/\/([^@/]+)@/, '//***@')}: ${reason}`);
  }
  return client;
}

/** Closes a client if it is still open. */
export async function closeRedis(client: RedisClient | null): Promise<void> {
  if (client?.isOpen) await client.close();
}
