import type { Logger } from '../logger.js';
import { closeRedis, connectRedis, type RedisClient } from '../redis/redis-client.js';

/** What a cache subscribes to: keys of one topic (e.g. `chatbot`) whose documents were written. */
export type InvalidationTopic = 'chatbot' | 'webhooks' | 'actions';

interface Subscriber {
  /** One key of the topic changed. */
  onKey: (key: string) => void;
  /** Invalidations may have been missed (the bus reconnected): drop everything. */
  onReset: () => void;
}

/**
 * Tells every node's read caches that a document changed. Without Redis it reaches this process only
 * (one node); with `REDIS_URL` a write on any node is published on one channel that every node
 * subscribes to. Publishing applies the invalidation here first, synchronously, so the writer's own next
 * read is fresh whatever happens to Redis.
 */
export class InvalidationBus {
  private readonly subscribers = new Map<InvalidationTopic, Subscriber[]>();

  constructor(private readonly remote: RemoteChannel | null = null) {
    remote?.listen(
      (topic, key) => this.deliver(topic, key),
      () => this.resetAll(),
    );
  }

  subscribe(topic: InvalidationTopic, subscriber: Subscriber): void {
    this.subscribers.set(topic, [...(this.subscribers.get(topic) ?? []), subscriber]);
  }

  /** Invalidates `key` here at once and on the other nodes; resolves once Redis took the message. */
  async publish(topic: InvalidationTopic, key: string): Promise<void> {
    this.deliver(topic, key);
    await this.remote?.send(topic, key);
  }

  async close(): Promise<void> {
    await this.remote?.close();
  }

  private deliver(topic: InvalidationTopic, key: string): void {
    for (const subscriber of this.subscribers.get(topic) ?? []) subscriber.onKey(key);
  }

  private resetAll(): void {
    for (const list of this.subscribers.values()) for (const subscriber of list) subscriber.onReset();
  }
}

/** The channel every node publishes and subscribes to. */
const CHANNEL = 'wisp:cache-invalidation';

interface RemoteChannel {
  listen(onKey: (topic: InvalidationTopic, key: string) => void, onReset: () => void): void;
  send(topic: InvalidationTopic, key: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The bus over Redis pub/sub: one connection publishes, a second one subscribes (a subscribed Redis
 * connection can run nothing else). A publish that fails (Redis down) is logged, not thrown: the write it
 * follows has happened, and the other nodes' caches expire within their time to live; every node also
 * drops its caches when its subscription comes back, since it may have missed messages meanwhile.
 */
export async function connectInvalidationBus(url: string, logger: Logger): Promise<InvalidationBus> {
  const publisher = await connectRedis(url, logger, 'cache invalidation');
  let subscriber: RedisClient;
  try {
    subscriber = await connectRedis(url, logger, 'cache invalidation subscriber', { offlineQueue: true });
  } catch (error) {
    await closeRedis(publisher);
    throw error;
  }
  let handlers: { onKey: (topic: InvalidationTopic, key: string) => void; onReset: () => void } | null = null;
  let subscribed = false;
  subscriber.on('ready', () => {
    // The client subscribes again by itself after a reconnection; what was published meanwhile is lost.
    if (subscribed) handlers?.onReset();
  });
  try {
    await subscriber.subscribe(CHANNEL, (message: string) => {
      const split = message.indexOf(':');
      if (split > 0) handlers?.onKey(message.slice(0, split) as InvalidationTopic, message.slice(split + 1));
    });
    subscribed = true;
  } catch (error) {
    await Promise.all([closeRedis(publisher), closeRedis(subscriber)]);
    throw error;
  }
  const remote: RemoteChannel = {
    listen(onKey, onReset) {
      handlers = { onKey, onReset };
    },
    async send(topic, key) {
      await publisher.publish(CHANNEL, `${topic}:${key}`).catch((error: unknown) => {
        logger.warn({ err: error, topic, key }, 'could not publish a cache invalidation; other nodes expire it');
      });
    },
    async close() {
      await Promise.all([closeRedis(publisher), closeRedis(subscriber)]);
    },
  };
  return new InvalidationBus(remote);
}
