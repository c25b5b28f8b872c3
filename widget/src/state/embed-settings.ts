/** What a site owner may set in `window.WispSettings` (or the script's `data-*` attributes). */
export interface WispSettings {
  /** The bot's id or slug (`data-bot`). */
  bot?: string;
  /** Where the Wisp server is; defaults to the origin `widget.js` was loaded from (`data-api`). */
  apiHost?: string;
  position?: 'bottom-right' | 'bottom-left';
  /** Open the chat on load (`data-open="true"`). */
  open?: boolean;
  locale?: string;
  theme?: 'light' | 'dark' | 'auto';
  /** The site's signed end-user JWT (`data-user-token`). */
  userToken?: string;
}

export interface EmbedSettings {
  bot: string | null;
  apiBase: string | null;
  position: 'bottom-right' | 'bottom-left' | null;
  open: boolean | null;
  locale: string | null;
  theme: 'light' | 'dark' | 'auto' | null;
  userToken: string | null;
}

const POSITIONS = ['bottom-right', 'bottom-left'] as const;
const THEMES = ['light', 'dark', 'auto'] as const;

function oneOf<T extends string>(values: readonly T[], value: unknown): T | null {
  return typeof value === 'string' && (values as readonly string[]).includes(value) ? (value as T) : null;
}

function text(value: unknown, max: number): string | null {
  return typeof value === 'string' && value.trim() !== '' && value.length <= max ? value.trim() : null;
}

function flag(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '') return true;
  if (value === 'false') return false;
  return null;
}

function originOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url, document.baseURI);
    return /^https?:$/.test(parsed.protocol) ? parsed.origin : null;
  } catch {
    // Not a URL: fall back to the next source of the API host.
    return null;
  }
}

/** The script tag that loaded the widget: the current one, else the first that looks like it. */
export function findOwnScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement) return current;
  return document.querySelector<HTMLScriptElement>('script[data-bot][src*="widget.js"]');
}

/** `window.WispSettings` wins over the script's `data-*` attributes; both over the bot's settings. */
export function readEmbedSettings(script: HTMLScriptElement | null, global: unknown): EmbedSettings {
  const fromGlobal: Record<string, unknown> =
    global && typeof global === 'object' ? (global as Record<string, unknown>) : {};
  const data = script?.dataset ?? {};
  const pick = (key: keyof WispSettings, attribute: string): unknown => fromGlobal[key] ?? data[attribute];
  return {
    bot: text(pick('bot', 'bot'), 80),
    apiBase: originOf(text(pick('apiHost', 'api'), 500)) ?? originOf(script?.src),
    position: oneOf(POSITIONS, pick('position', 'position')),
    open: flag(pick('open', 'open')),
    locale: text(pick('locale', 'locale'), 20),
    theme: oneOf(THEMES, pick('theme', 'theme')),
    userToken: text(pick('userToken', 'userToken'), 4000),
  };
}
