import type { z } from 'zod';
import type { ErrorName } from './errors.js';
import type {
  widgetChatErrorSchema,
  widgetChunkSchema,
  widgetConfirmAckSchema,
  widgetConfirmSchema,
  widgetDoneSchema,
  widgetFeedbackAckSchema,
  widgetFeedbackSchema,
  widgetHandshakeSchema,
  widgetHistoryAckSchema,
  widgetHistorySchema,
  widgetLeadAckSchema,
  widgetLeadSchema,
  widgetNewAckSchema,
  widgetNewSchema,
  widgetSendAckSchema,
  widgetSendSchema,
  widgetSessionSchema,
  widgetSettingsUpdatedSchema,
} from './schemas/widget-socket.js';

// The types here are derived from the zod schemas in `./schemas/widget-socket.ts`, the one
// declaration of the contract. Type-only imports: the widget bundle gets no zod from this file.

/** The widget's Socket.IO namespace. */
export const WIDGET_NAMESPACE = '/widget';

/** Sent in the Socket.IO handshake (`auth`): bot, visitor id and token, end-user JWT, page URL. */
export type WidgetHandshake = z.input<typeof widgetHandshakeSchema>;

/** Every ack is answered with data or an error, never both. */
export type Ack<T> = (
  reply:
    | { data: T; error?: undefined }
    | { data?: undefined; error: { name: ErrorName; message: string; details?: unknown } },
) => void;

/** A client event: its payload as sent (the schema's input) and its ack's data. */
type ClientEvent<Payload extends z.ZodType, Data extends z.ZodType> = (
  payload: z.input<Payload>,
  ack: Ack<z.output<Data>>,
) => void;

/** A server event with its payload. */
type ServerEvent<Payload extends z.ZodType> = (payload: z.output<Payload>) => void;

/** What the widget sends. */
export interface WidgetClientEvents {
  /** Sends a visitor message; the ack carries the stored ids before the answer streams. */
  'chat:send': ClientEvent<typeof widgetSendSchema, typeof widgetSendAckSchema>;
  /** Messages of the current (or given) conversation, optionally only those after a message id. */
  'chat:history': ClientEvent<typeof widgetHistorySchema, typeof widgetHistoryAckSchema>;
  /**
   * Approves or declines the action an answer waits for (`MessageDto.pendingAction`); the ack says how it
   * went, then the follow-up answer streams as `chat:chunk` / `chat:done` on the same message.
   */
  'chat:confirm': ClientEvent<typeof widgetConfirmSchema, typeof widgetConfirmAckSchema>;
  /** Starts a new conversation for this visitor. */
  'chat:new': ClientEvent<typeof widgetNewSchema, typeof widgetNewAckSchema>;
  /** Thumbs up or down on an answer. */
  'message:feedback': ClientEvent<typeof widgetFeedbackSchema, typeof widgetFeedbackAckSchema>;
  /** Submits the lead form. */
  'lead:submit': ClientEvent<typeof widgetLeadSchema, typeof widgetLeadAckSchema>;
}

/** What the server sends to the widget. */
export interface WidgetServerEvents {
  /**
   * After connecting: the visitor's token and current conversation. `visitorId` differs from the
   * handshake's when the server issued a new one (the given id was already used without a valid token).
   */
  session: ServerEvent<typeof widgetSessionSchema>;
  /** One streamed piece of an answer; `seq` starts at 0 for each answer. */
  'chat:chunk': ServerEvent<typeof widgetChunkSchema>;
  /** The complete answer, with its citations. */
  'chat:done': ServerEvent<typeof widgetDoneSchema>;
  /** The answer failed; the visitor's message is kept and can be retried. */
  'chat:error': ServerEvent<typeof widgetChatErrorSchema>;
  /** The owner changed the widget settings; restyle without reload (the public config of `/widget-config`). */
  'settings:updated': ServerEvent<typeof widgetSettingsUpdatedSchema>;
}

/** The payload of a server event. */
export type WidgetServerPayload<E extends keyof WidgetServerEvents> = Parameters<WidgetServerEvents[E]>[0];

/** Per-socket data the server keeps. */
export interface WidgetSocketData {
  organizationId: string;
  chatbotId: string;
  visitorId: string;
  conversationId: string | null;
  user: { sub: string; name?: string; email?: string } | null;
  pageUrl: string | null;
}
