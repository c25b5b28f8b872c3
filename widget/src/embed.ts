import type { WidgetConfig } from '../../shared/schemas/widget-settings.js';
import type { ChatContext, ChatController, WispEventName } from './chat-context.js';
import { findOwnScript, readEmbedSettings, type WispSettings } from './state/embed-settings.js';
import { botStorage } from './state/storage.js';
import { fetchWidgetConfig, readCachedConfig } from './state/widget-config.js';
import hostCss from './ui/host.css?inline';
import { createLauncher } from './ui/launcher.js';
import { createShadowHost } from './ui/shadow-host.js';
import { themeCss } from './ui/theme.js';

/**
 * The one global the widget installs, `window.Wisp`. It is also callable, so calls made before
 * the script loaded can be queued by a stub: `Wisp('open')`, `Wisp('on', 'message', fn)`.
 */
export interface WispApi {
  (command: string, ...args: unknown[]): void;
  /** The widget's version; its presence marks the real API (a second load then does nothing). */
  readonly version: string;
  /** Opens the chat panel (loading the chat code on first use). */
  open(): void;
  /** Closes the chat panel. */
  close(): void;
  /** Opens the panel when closed, closes it when open. */
  toggle(): void;
  /** Opens the panel and sends `text` as the visitor. */
  send(text: string): void;
  /** Identifies the visitor with the site's signed end-user JWT (HS256, the bot's identity secret); `null` forgets it. */
  identify(identity: { token: string | null }): void;
  /** Listens to `open`, `close`, `message` or `lead`; returns a function that stops listening. */
  on(event: WispEventName, listener: (payload?: unknown) => void): () => void;
  /** Stops a listener added with `on`. */
  off(event: WispEventName, listener: (payload?: unknown) => void): void;
  /**
   * Removes the widget from the page: the `<wisp-widget>` element, the socket (closed), every
   * listener, signal effect and timer the widget added, the page's `on` listeners, and
   * `window.Wisp` itself, so adding the script again starts a fresh widget (closed). The visitor's
   * id and conversation stay in storage. Calls on the old API afterwards do nothing.
   */
  destroy(): void;
}

declare global {
  interface Window {
    Wisp?: unknown;
    WispSettings?: WispSettings;
  }
}

const VERSION = '0.1.0';
const EVENTS: readonly WispEventName[] = ['open', 'close', 'message', 'lead'];

function mark(name: string): void {
  try {
    performance.mark(name);
  } catch {
    // No User Timing in this browser: the marks only feed the launcher timing bench.
  }
}

function devWarn(message: string): void {
  if (import.meta.env.DEV) console.warn(`[wisp] ${message}`);
}

/** Installs `window.Wisp` unless a Wisp is already running, then boots the launcher. */
function install(): void {
  const existing = window.Wisp as { version?: unknown; q?: unknown } | undefined;
  if (existing && typeof existing === 'function' && 'version' in existing) return;
  const queued = existing && Array.isArray(existing.q) ? (existing.q as ArrayLike<unknown>[]) : [];
  const script = findOwnScript();
  const settings = readEmbedSettings(script, window.WispSettings);
  const listeners = new Map<WispEventName, Set<(payload?: unknown) => void>>();
  const storage = botStorage(settings.bot ?? 'unknown');
  const shadow = createShadowHost();
  const launcher = createLauncher(
    () => api.toggle(),
    () => void loadChat(),
  );
  let userToken = settings.userToken;
  let config: WidgetConfig | null = null;
  let setTheme: ((css: string) => void) | null = null;
  let isOpen = false;
  let openWhenReady = false;
  const sendsWhenReady: string[] = [];
  let chat: Promise<ChatController | null> | null = null;
  let mounted: ChatController | null = null;
  // Everything destroy() must undo that outlives the element: fetch retries, timers, a DOM-ready wait.
  let destroyed = false;
  const stopping = new AbortController();
  let chatSoon: ReturnType<typeof setTimeout> | undefined;
  let frame = 0;
  let onDomReady: (() => void) | null = null;

  const emit = (event: WispEventName, payload?: unknown) => {
    for (const listener of listeners.get(event) ?? []) {
      try {
        listener(payload);
      } catch (error) {
        // The page's own listener failed: report it as the page's error, never as ours.
        if (typeof reportError === 'function') reportError(error);
      }
    }
  };

  // Draws the launcher for a config: the bot's current one, or the last one seen while it loads.
  const paint = (next: WidgetConfig) => {
    const { host } = shadow;
    host.setAttribute('data-position', settings.position ?? next.appearance.position);
    host.setAttribute('data-theme', settings.theme ?? next.appearance.theme);
    if (setTheme) setTheme(themeCss(next));
    else setTheme = shadow.addStyles(themeCss(next));
    launcher.update(next, isOpen);
  };
  const applyConfig = (next: WidgetConfig) => {
    config = next;
    paint(next);
  };

  const loadChat = (): Promise<ChatController | null> => {
    if (!config || destroyed) return Promise.resolve(null);
    const ready = config;
    chat ??= import('./chat')
      .then(({ mountChat }) => {
        if (destroyed) return null;
        const container = document.createElement('div');
        shadow.root.append(container);
        const context: ChatContext = {
          container,
          addStyles: (css) => void shadow.addStyles(css),
          apiBase: settings.apiBase ?? '',
          bot: settings.bot ?? '',
          config: ready,
          locale: settings.locale ?? ready.locale,
          userToken,
          storage,
          emit,
          requestClose: () => api.close(),
          applyConfig,
        };
        const controller = mountChat(context);
        if (isOpen) controller.setOpen(true);
        mounted = controller;
        return controller;
      })
      .catch((error: unknown) => {
        // The chunk could not be fetched (offline, blocked): the next click tries again.
        devWarn(`could not load the chat: ${String(error)}`);
        chat = null;
        return null;
      });
    return chat;
  };

  const setOpen = (open: boolean) => {
    if (destroyed) return;
    if (!config) {
      openWhenReady = open;
      return;
    }
    if (open === isOpen) return;
    isOpen = open;
    shadow.host.toggleAttribute('data-open', open);
    launcher.update(config, open);
    storage.setSession('open', open ? '1' : null);
    if (open) void loadChat().then((controller) => controller?.setOpen(isOpen));
    else {
      const focusWasInside = shadow.root.activeElement !== null;
      void chat?.then((controller) => controller?.setOpen(false));
      if (focusWasInside) launcher.element.focus();
    }
    emit(open ? 'open' : 'close');
  };

  const api = Object.assign(
    (command: string, ...args: unknown[]) => {
      const method = (api as unknown as Record<string, unknown>)[command];
      if (typeof method === 'function' && command !== 'version') (method as (...a: unknown[]) => void)(...args);
    },
    {
      version: VERSION,
      open: () => setOpen(true),
      close: () => setOpen(false),
      toggle: () => setOpen(!isOpen),
      send: (text: string) => {
        if (destroyed || typeof text !== 'string' || text.trim() === '') return;
        if (!config) {
          sendsWhenReady.push(text);
          openWhenReady = true;
          return;
        }
        setOpen(true);
        void loadChat().then((controller) => controller?.send(text));
      },
      identify: (identity: { token: string | null }) => {
        userToken = identity && typeof identity.token === 'string' ? identity.token : null;
        void chat?.then((controller) => controller?.identify(userToken));
      },
      on: (event: WispEventName, listener: (payload?: unknown) => void) => {
        if (!EVENTS.includes(event) || typeof listener !== 'function') return () => undefined;
        const set = listeners.get(event) ?? new Set();
        set.add(listener);
        listeners.set(event, set);
        return () => set.delete(listener);
      },
      off: (event: WispEventName, listener: (payload?: unknown) => void) => {
        listeners.get(event)?.delete(listener);
      },
      destroy: () => {
        if (destroyed) return;
        destroyed = true;
        stopping.abort();
        clearTimeout(chatSoon);
        cancelAnimationFrame(frame);
        if (onDomReady) document.removeEventListener('DOMContentLoaded', onDomReady);
        // A chat chunk still loading sees `destroyed` and never mounts.
        mounted?.destroy();
        // Reopening on the next load is for page changes; a widget added again after destroy starts closed.
        storage.setSession('open', null);
        shadow.host.remove();
        listeners.clear();
        if (window.Wisp === api) delete window.Wisp;
      },
    },
  ) satisfies WispApi;
  window.Wisp = api;
  for (const call of queued) {
    const [command, ...args] = Array.from(call);
    if (typeof command === 'string') api(command, ...args);
  }

  if (!settings.bot || !settings.apiBase) {
    devWarn('no bot: add data-bot="BOT_ID" to the script tag');
    return;
  }
  shadow.addStyles(hostCss);
  shadow.root.append(launcher.element);
  // The launcher paints at once, from the last config this browser saw (or the defaults), while the
  // current one loads: a click meanwhile opens the chat as soon as it is there.
  const cached = readCachedConfig(storage);
  if (cached) paint(cached);
  else shadow.host.setAttribute('data-position', settings.position ?? 'bottom-right');
  const show = () => {
    (document.body ?? document.documentElement).append(shadow.host);
    frame = requestAnimationFrame(() => mark('wisp:launcher-visible'));
  };
  if (document.body) show();
  else {
    onDomReady = show;
    document.addEventListener('DOMContentLoaded', onDomReady, { once: true });
  }
  void fetchWidgetConfig(settings.apiBase, settings.bot, stopping.signal)
    .then((result) => {
      if (destroyed) return;
      if (typeof result === 'string') {
        devWarn(result === 'refused' ? 'this bot is not available on this site' : 'the Wisp server is unreachable');
        // Without a config the chat cannot start: no launcher, and no stale one painted next time.
        storage.set('config', null);
        if (onDomReady) document.removeEventListener('DOMContentLoaded', onDomReady);
        cancelAnimationFrame(frame);
        shadow.host.remove();
        return;
      }
      applyConfig(result);
      storage.set('config', JSON.stringify(result));
      const reopen = storage.getSession('open') === '1';
      if (openWhenReady || reopen || (settings.open ?? result.openOnLoad)) setOpen(true);
      for (const text of sendsWhenReady.splice(0)) api.send(text);
      // A visitor who already has a conversation gets it (and any answer still streaming) without a click.
      if (storage.get('conversation')) chatSoon = setTimeout(() => void loadChat(), 0);
    })
    // Like a throw from install() below: the host page never sees it, and keeps working without the widget.
    .catch((error: unknown) => devWarn(`failed to start: ${String(error)}`));
}

mark('wisp:script-start');
try {
  install();
} catch (error) {
  // Whatever went wrong stays inside the widget: the host page keeps working without it.
  devWarn(`failed to start: ${String(error)}`);
}
