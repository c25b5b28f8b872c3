/**
 * The widget socket contract: every payload and ack of the `/widget` namespace, declared once.
 * The server parses client payloads with these; `../socket-events.ts` derives the event types from them.
 */
import { z } from 'zod';
import { ERROR_STATUS, type ErrorName } from '../errors.js';
import { clientMessageIdSchema, MAX_MESSAGE_CHARS, messageSchema } from './chat.js';
import { idOrSlugSchema, objectIdSchema } from './common.js';
import { widgetConfigSchema } from './widget-settings.js';

/** A widget visitor id: random, chosen by the browser or issued by the server. */
export const visitorIdSchema = z
  .string()
  .min(8)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, { message: 'letters, digits, _ and - only' });

/** The Socket.IO handshake `auth` of the widget namespace (see `WidgetHandshake`). */
export const widgetHandshakeSchema = z.object({
  bot: idOrSlugSchema,
  visitorId: visitorIdSchema,
  visitorToken: z.string().min(1).max(200).optional(),
  userToken: z.string().min(1).max(4_000).optional(),
  pageUrl: z.string().max(2_000).optional(),
});

/** `chat:send`: the text is capped here too, a little above the chat service's limit, so it still answers 413. */
export const widgetSendSchema = z.object({
  text: z
    .string()
    .trim()
    .min(1, { message: 'must not be empty' })
    .max(MAX_MESSAGE_CHARS * 2),
  clientMessageId: clientMessageIdSchema,
  conversationId: objectIdSchema.nullish(),
});

/** `chat:history`. */
export const widgetHistorySchema = z.object({
  conversationId: objectIdSchema.nullish(),
  after: objectIdSchema.nullish(),
});

/** `message:feedback`. */
export const widgetFeedbackSchema = z.object({
  messageId: objectIdSchema,
  rating: z.enum(['up', 'down']),
});

/** `chat:confirm`: the visitor approves or declines the action an answer waits for. */
export const widgetConfirmSchema = z.object({
  messageId: objectIdSchema,
  approve: z.boolean(),
});

/** `chat:new`: no fields (the server reads nothing from it). */
export const widgetNewSchema = z.object({});

/** `lead:submit` is the lead form's payload, shared with `POST /api/v1/widget/leads`. */
export { leadSubmitPayloadSchema as widgetLeadSchema, leadSubmittedSchema as widgetLeadAckSchema } from './leads.js';

// Ack data: what each client event's ack carries in `data`.

/** `chat:send` ack: the stored ids, before the answer streams. */
export const widgetSendAckSchema = z.object({
  conversationId: z.string(),
  messageId: z.string(),
  assistantMessageId: z.string().nullable(),
  duplicate: z.boolean(),
});

/** `chat:history` ack. */
export const widgetHistoryAckSchema = z.object({
  conversationId: z.string().nullable(),
  messages: z.array(messageSchema),
});

/** `chat:new` ack. */
export const widgetNewAckSchema = z.object({ conversationId: z.null() });

/** `chat:confirm` ack: how the action went; the follow-up answer then streams on the same message. */
export const widgetConfirmAckSchema = z.object({
  messageId: z.string(),
  status: z.enum(['succeeded', 'failed', 'refused', 'declined']),
});

/** `message:feedback` ack. */
export const widgetFeedbackAckSchema = z.object({ messageId: z.string() });

// Server events: what the server sends to the widget.

const errorNameSchema = z.enum(Object.keys(ERROR_STATUS) as [ErrorName, ...ErrorName[]]);

/** `session`: the visitor's token and current conversation. */
export const widgetSessionSchema = z.object({
  visitorId: z.string(),
  visitorToken: z.string(),
  conversationId: z.string().nullable(),
});

/** `chat:chunk`: one streamed piece of an answer. */
export const widgetChunkSchema = z.object({
  conversationId: z.string(),
  messageId: z.string(),
  seq: z.number().int(),
  text: z.string(),
});

/** `chat:done`: the complete answer, with its citations. */
export const widgetDoneSchema = z.object({ conversationId: z.string(), message: messageSchema });

/** `chat:error`: the answer failed; the visitor's message is kept. */
export const widgetChatErrorSchema = z.object({
  conversationId: z.string(),
  messageId: z.string().nullable(),
  error: z.object({ name: errorNameSchema, message: z.string() }),
});

/** `settings:updated`: the new public widget config, as `GET /api/v1/widget-config` returns it. */
export const widgetSettingsUpdatedSchema = z.object({ version: z.number().int(), config: widgetConfigSchema });
