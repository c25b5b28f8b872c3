import type { WidgetConfig } from '../../../shared/schemas/widget-settings.js';
import type { BotStorage } from './storage.js';

/** Why no config could be had: the bot refuses this site or does not exist, or the network failed. */
export type ConfigFailure = 'refused' | 'unavailable';

const RETRY_DELAYS_MS = [1_000, 4_000];

function isConfig(value: unknown): value is WidgetConfig {
  const config = value as Partial<WidgetConfig> | null;
  return Boolean(config && typeof config.botId === 'string' && config.appearance && typeof config.name === 'string');
}

/**
 * Fetches the bot's public widget config. 4xx answers (unknown bot, origin not allowed) are final;
 * network errors and 5xx are retried twice before giving up.
 */
export async function fetchWidgetConfig(
  apiBase: string,
  bot: string,
  signal: AbortSignal,
): Promise<WidgetConfig | ConfigFailure> {
  const url = `${apiBase}/api/v1/widget-config?bot=${encodeURIComponent(bot)}`;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const res = await fetch(url, { credentials: 'omit', headers: { Accept: 'application/json' }, signal });
      if (res.status >= 400 && res.status < 500 && res.status !== 429) return 'refused';
      if (res.ok) {
        const body = (await res.json()) as { data?: unknown };
        return isConfig(body.data) ? body.data : 'unavailable';
      }
    } catch {
      // A network error (or a CORS refusal, which looks the same from here): retried below.
    }
    const delay = RETRY_DELAYS_MS[attempt];
    if (delay === undefined || signal.aborted) return 'unavailable';
    // The widget being destroyed ends the wait (and its timer) at once.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }
}

/** The config this browser last received for the bot, to paint the launcher while the current one loads. */
export function readCachedConfig(storage: BotStorage): WidgetConfig | null {
  try {
    const cached: unknown = JSON.parse(storage.get('config') ?? 'null');
    return isConfig(cached) ? cached : null;
  } catch {
    return null;
  }
}
