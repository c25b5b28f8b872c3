import type { WidgetConfig } from '../../shared/schemas/widget-settings.js';
import type { BotStorage } from './state/storage.js';

/** Events a host page can listen to with `Wisp.on`. */
export type WispEventName = 'open' | 'close' | 'message' | 'lead';

/** Payload of the `message` event: a visitor message as sent, or an answer once complete. */
export interface WispMessageEvent {
  role: 'user' | 'assistant';
  text: string;
  messageId: string | null;
  conversationId: string | null;
}

/**
 * What the loader hands the lazily loaded chat chunk. The chunk imports nothing from the
 * loader's modules (that would need a shared chunk, which a classic script cannot import),
 * so everything shared travels through this object.
 */
export interface ChatContext {
  /** The element inside the shadow root the panel renders into. */
  container: HTMLElement;
  /** Adds a stylesheet to the shadow root (constructable where supported, CSP-safe). */
  addStyles(css: string): void;
  apiBase: string;
  bot: string;
  config: WidgetConfig;
  locale: string;
  userToken: string | null;
  storage: BotStorage;
  emit(event: WispEventName, payload?: unknown): void;
  /** The panel asks to close (header button, Esc); the loader owns the open state. */
  requestClose(): void;
  /** The owner changed the settings while the widget is open. */
  applyConfig(config: WidgetConfig): void;
}

/** What the chat chunk gives back to the loader. */
export interface ChatController {
  setOpen(open: boolean): void;
  send(text: string): void;
  identify(userToken: string | null): void;
  /** Unmounts the panel, closes the socket, and stops every effect, timer and listener of the chunk. */
  destroy(): void;
}

/** The chat chunk's only export. */
export type MountChat = (context: ChatContext) => ChatController;
