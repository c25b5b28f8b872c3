import type { Store } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Logger } from '../logger.js';
import { closeRedis, connectRedis } from '../redis/redis-client.js';

/** Rate-limit stores shared by every node through one Redis connection. */
export interface SharedRateLimitStores {
  storeFor(prefix: string): Store;
  close(): Promise<void>;
}

/**
 * Connects once to `url` and hands out one Redis store per limiter, so every node
 * behind a load balancer counts against the same limits.
 */
export async function connectRateLimitStores(url: string, logger: Logger): Promise<SharedRateLimitStores> {
  const client = await connectRedis(url, logger, 'rate-limit');
  return {
    storeFor: (prefix) =>
      new RedisStore({
        prefix,
        sendCommand: (...args: string[]) => client.sendCommand(args) as Promise<RedisReply>,
      }),
    close: () => closeRedis(client),
  };
}
