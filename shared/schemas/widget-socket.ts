import { z } from 'zod';
import { clientMessageIdSchema, MAX_MESSAGE_CHARS } from './chat.js';
import { idOrSlugSchema, objectIdSchema } from './common.js';

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
