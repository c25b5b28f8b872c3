import type { Options, Store } from 'express-rate-limit';
import type { Config } from '../config.js';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../logger.js';
import { WindowCounter } from '../http/window-counter.js';

/** The limits on the widget's public paths; each counts hits per key in a fixed window. */
export type WidgetLimitName =
  'connects' | 'visitorBurst' | 'visitorMessages' | 'ipMessages' | 'botMessages' | 'ipEvents' | 'config' | 'leads';

/** `limit` 0 means unlimited. */
export interface WindowLimit {
  limit: number;
  windowMs: number;
}

export type WidgetLimitSettings = Record<WidgetLimitName, WindowLimit>;

const MINUTE = 60_000;

/** The widget limits as configured (see the README's configuration table). */
export function widgetLimitSettings(config: Config): WidgetLimitSettings {
  return {
    connects: { limit: config.WIDGET_CONNECTS_PER_IP_PER_MINUTE, windowMs: MINUTE },
    visitorBurst: { limit: config.WIDGET_MESSAGES_BURST_PER_VISITOR, windowMs: 10_000 },
    visitorMessages: { limit: config.WIDGET_MESSAGES_PER_VISITOR_PER_MINUTE, windowMs: MINUTE },
    ipMessages: { limit: config.WIDGET_MESSAGES_PER_IP_PER_MINUTE, windowMs: MINUTE },
    botMessages: { limit: config.WIDGET_MESSAGES_PER_BOT_PER_MINUTE, windowMs: MINUTE },
    ipEvents: { limit: config.WIDGET_EVENTS_PER_IP_PER_MINUTE, windowMs: MINUTE },
    config: { limit: config.WIDGET_CONFIG_PER_IP_PER_MINUTE, windowMs: MINUTE },
    leads: { limit: config.WIDGET_LEADS_PER_IP_PER_MINUTE, windowMs: MINUTE },
  };
}

/** What the visitor reads when refused: friendly for their own pace, plain for the rest. */
const REFUSALS: Record<WidgetLimitName, string> = {
  visitorBurst: "You're sending messages a little fast.",
  visitorMessages: "You're sending messages a little fast.",
  ipMessages: 'Too many messages come from your network right now.',
  botMessages: 'This chat is very busy right now.',
  connects: 'Too many chat connections from this address.',
  ipEvents: 'Too many chat requests from this address.',
  config: 'Too many widget loads from this address.',
  leads: 'Too many contact forms sent from this address.',
};

/** One counted hit: which limit, and whose counter (a visitor, an address, a bot). */
export type Hit = [WidgetLimitName, string];

export interface Reservation {
  /** Gives the hits back, for a message that never reached the model (a duplicate, a refusal). */
  release(): Promise<void>;
}

/**
 * Counts the widget's public traffic per visitor, address and bot. The store increments
 * atomically (INCR in Redis, shared by every node; a map in-process otherwise), so the
 * count a hit gets back is its reservation: concurrent sends cannot all pass.
 */
export class WidgetLimits {
  private readonly stores = new Map<WidgetLimitName, { store: Store; ready: Promise<unknown> }>();

  constructor(
    private readonly settings: WidgetLimitSettings,
    private readonly logger: Logger,
    storeFor?: (prefix: string) => Store | undefined,
  ) {
    for (const [name, { limit, windowMs }] of Object.entries(settings) as Array<[WidgetLimitName, WindowLimit]>) {
      if (limit === 0) continue;
      const store = storeFor?.(`rl:widget-${name}:`) ?? new WindowCounter();
      // Stores take the limiter's options at init; they read only the window.
      const ready = Promise.resolve(store.init?.({ windowMs } as Options)).catch(() => undefined);
      this.stores.set(name, { store, ready });
    }
  }

  /**
   * Counts each hit in order and stops at the first over its limit (throwing a RateLimitError
   * whose details say when to retry); later limits are not counted for a refused attempt.
   */
  async take(hits: Hit[]): Promise<Reservation> {
    const taken: Hit[] = [];
    for (const hit of hits) {
      const [name, key] = hit;
      const entry = this.stores.get(name);
      if (!entry) continue;
      let count: { totalHits: number; resetTime?: Date };
      try {
        await entry.ready;
        count = await entry.store.increment(key);
      } catch (error) {
        // A shared store that is briefly unreachable must not take the widget down: pass uncounted.
        this.logger.warn({ err: error, limit: name }, 'widget rate-limit store failed; passing uncounted');
        continue;
      }
      if (count.totalHits > this.settings[name].limit) throw this.refusal(name, count.resetTime);
      taken.push(hit);
    }
    return { release: () => this.release(taken) };
  }

  private async release(hits: Hit[]): Promise<void> {
    await Promise.all(
      hits.map(async ([name, key]) => {
        try {
          await this.stores.get(name)?.store.decrement(key);
        } catch {
          // An unreachable store keeps the hit; it expires with its window.
        }
      }),
    );
  }

  private refusal(name: WidgetLimitName, resetTime: Date | undefined): AppError {
    const { limit, windowMs } = this.settings[name];
    const windowSeconds = Math.round(windowMs / 1000);
    const retryAfterSeconds = Math.max(
      1,
      resetTime ? Math.ceil((resetTime.getTime() - Date.now()) / 1000) : windowSeconds,
    );
    const unit = retryAfterSeconds === 1 ? 'second' : 'seconds';
    return new AppError('RateLimitError', {
      message: `${REFUSALS[name]} Please wait ${retryAfterSeconds} ${unit} and try again.`,
      details: { limit, windowSeconds, retryAfterSeconds },
      headers: { 'Retry-After': String(retryAfterSeconds) },
    });
  }

  /** Stops the in-process stores' cleanup timers. */
  close(): void {
    for (const { store } of this.stores.values()) if (store instanceof WindowCounter) store.shutdown();
  }
}
