import type { Store } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { createClient } from 'redis';
import type { Logger } from '../logger.js';

/** Rate-limit stores shared by every node through one Redis connection. */
export interface SharedRateLimitStores {
  storeFor(prefix: string): Store;
  close(): Promise<void>;
}

/** A Redis that could not be reached at boot, with a one-line message for the operator. */
export class RedisUnreachableError extends Error {
  override name = 'RedisUnreachableError';
}

/**
 * Connects once to `url` and hands out one Redis store per limiter, so every node
 * behind a load balancer counts against the same limits.
 */
export async function connectRateLimitStores(url: string, logger: Logger): Promise<SharedRateLimitStores> {
  let connectedOnce = false;
  const client = createClient({
    url,
    // Without the offline queue a Redis outage fails the limiter at once instead of holding requests.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 5_000,
      // At boot a few quick retries, then a clear failure; once up, keep reconnecting through blips.
      reconnectStrategy: (retries, cause) =>
        connectedOnce || retries < 3 ? Math.min(retries * 200 + 100, 5_000) : cause,
    },
  });
  // The client reconnects by itself; an unhandled 'error' event would end the process instead.
  client.on('error', (error: unknown) => logger.warn({ err: error }, 'rate-limit Redis connection error'));
  try {
    await client.connect();
    connectedOnce = true;
  } catch (error) {
    client.destroy();
    const reason = error instanceof Error ? error.message : String(error);
    throw new RedisUnreachableError(`Cannot reach Redis at ${url.replace(/\/\/([^@/]+)@/, '//***@')}: ${reason}`);
  }
  return {
    storeFor: (prefix) =>
      new RedisStore({
        prefix,
        sendCommand: (...args: string[]) => client.sendCommand(args) as Promise<RedisReply>,
      }),
    close: async () => {
      if (client.isOpen) await client.close();
    },
  };
}
