import { z } from 'zod';
import { dateQuerySchema, idOrSlugSchema, paginationQuerySchema } from './common.js';
import { messageSchema } from './chat.js';

/** Query of `GET /api/v1/conversations`. */
export const listConversationsQuerySchema = paginationQuerySchema.extend({
  chatbotId: idOrSlugSchema.optional(),
  from: dateQuerySchema.optional(),
  to: dateQuerySchema.optional(),
  q: z.string().trim().min(1).max(200).optional(),
});

/** Where a conversation takes place: the REST API, the widget, or a messaging channel. */
export const CONVERSATION_CHANNELS = ['api', 'widget', 'telegram', 'slack', 'whatsapp', 'webhook'] as const;
export type ConversationChannel = (typeof CONVERSATION_CHANNELS)[number];

/** A conversation in lists: counts, the last message, and who it is with when known. */
export const conversationSummarySchema = z.object({
  id: z.string(),
  chatbotId: z.string(),
  channel: z.enum(CONVERSATION_CHANNELS),
  sessionId: z.string().nullable(),
  visitorId: z.string().nullable(),
  user: z.object({ sub: z.string().nullable(), name: z.string().nullable(), email: z.string().nullable() }).nullable(),
  leadId: z.string().nullable(),
  messageCount: z.number().int(),
  lastMessage: z.object({ preview: z.string(), at: z.string() }).nullable(),
  metadata: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** A conversation with all its messages. */
export const conversationDetailSchema = conversationSummarySchema.extend({ messages: z.array(messageSchema) });

export type ConversationSummary = z.infer<typeof conversationSummarySchema>;
