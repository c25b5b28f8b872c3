import type { MessageDto } from './schemas/chat.js';
import type { ErrorName } from './errors.js';

/** The widget's Socket.IO namespace. */
export const WIDGET_NAMESPACE = '/widget';

/** Sent in the Socket.IO handshake (`auth`). */
export interface WidgetHandshake {
  /** The bot's id or slug. */
  bot: string;
  /** A random id the widget keeps in localStorage per bot. */
  visitorId: string;
  /** A token from an earlier `session` event, proving this visitor id was issued here. */
  visitorToken?: string;
  /** The site owner's signed end-user JWT, if the page identified the visitor. */
  userToken?: string;
  /** Page the widget runs on, for leads and conversation context. */
  pageUrl?: string;
}

/** Every ack is answered with data or an error, never both. */
export type Ack<T> = (
  reply:
    | { data: T; error?: undefined }
    | { data?: undefined; error: { name: ErrorName; message: string; details?: unknown } },
) => void;

/** What the widget sends. */
export interface WidgetClientEvents {
  /** Sends a visitor message; the ack carries the stored ids before the answer streams. */
  'chat:send': (
    payload: { text: string; clientMessageId: string; conversationId?: string | null },
    ack: Ack<{ conversationId: string; messageId: string; assistantMessageId: string | null; duplicate: boolean }>,
  ) => void;
  /** Messages of the current (or given) conversation, optionally only those after a message id. */
  'chat:history': (
    payload: { conversationId?: string | null; after?: string | null },
    ack: Ack<{ conversationId: string | null; messages: MessageDto[] }>,
  ) => void;
  /** Starts a new conversation for this visitor. */
  'chat:new': (payload: Record<string, never>, ack: Ack<{ conversationId: null }>) => void;
  /** Thumbs up or down on an answer. */
  'message:feedback': (payload: { messageId: string; rating: 'up' | 'down' }, ack: Ack<{ messageId: string }>) => void;
  /** Submits the lead form. */
  'lead:submit': (
    payload: {
      fields: Record<string, string>;
      consent?: boolean;
      conversationId?: string | null;
      pageUrl?: string;
      referrer?: string;
      locale?: string;
    },
    ack: Ack<{ leadId: string }>,
  ) => void;
}

/** What the server sends to the widget. */
export interface WidgetServerEvents {
  /**
   * After connecting: the visitor's token and current conversation. `visitorId` differs from the
   * handshake's when the server issued a new one (the given id was already used without a valid token).
   */
  session: (payload: { visitorId: string; visitorToken: string; conversationId: string | null }) => void;
  /** One streamed piece of an answer; `seq` starts at 0 for each answer. */
  'chat:chunk': (payload: { conversationId: string; messageId: string; seq: number; text: string }) => void;
  /** The complete answer, with its citations. */
  'chat:done': (payload: { conversationId: string; message: MessageDto }) => void;
  /** The answer failed; the visitor's message is kept and can be retried. */
  'chat:error': (payload: {
    conversationId: string;
    messageId: string | null;
    error: { name: ErrorName; message: string };
  }) => void;
  /** The owner changed the widget settings; restyle without reload. */
  'settings:updated': (payload: { version: number; config: unknown }) => void;
}

/** Per-socket data the server keeps. */
export interface WidgetSocketData {
  organizationId: string;
  chatbotId: string;
  visitorId: string;
  conversationId: string | null;
  user: { sub: string; name?: string; email?: string } | null;
  pageUrl: string | null;
}
