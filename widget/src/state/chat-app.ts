import type { ChatConnection } from './chat-connection.js';
import type { ChatStore } from './chat-store.js';
import type { LeadCapture } from './lead-capture.js';
import type { StringKey } from './strings.js';

/** What every chat component receives: the state, the actions, and the words. */
export interface ChatApp {
  store: ChatStore;
  connection: ChatConnection;
  lead: LeadCapture;
  requestClose(): void;
  locale: string;
  t(key: StringKey): string;
}
