import { z } from 'zod';
import { botChatRequestSchema, chatResultSchema } from './chat.js';
import { createChatbotSchema } from './chatbots.js';
import { dateQuerySchema, idOrSlugSchema, objectIdSchema, paginationQuerySchema } from './common.js';
import { listConversationsQuerySchema } from './conversations.js';
import { leadListItemSchema } from './leads.js';
import {
  crawlModeSchema,
  createFileSourceSchema,
  createTextSourceSchema,
  createUrlSourceSchema,
  listSourcesQuerySchema,
  MAX_CRAWL_PAGES,
  sourceSchema,
} from './sources.js';
import { widgetConfigSchema, widgetSettingsPatchSchema, widgetSettingsStateSchema } from './widget-settings.js';

// The request and answer shapes of the compatibility dialects: other chatbot APIs' requests, mapped onto Wisp's.

/** `chatbotId` → `chatbot_id`. */
export const snakeCase = (key: string): string => key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/** The same schema with its field names in snake_case (records keep their keys: they are the caller's data). */
export function snakeCaseSchema(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodObject) {
    const shape = schema.shape as Record<string, z.ZodType>;
    return z.object(
      Object.fromEntries(Object.entries(shape).map(([key, value]) => [snakeCase(key), snakeCaseSchema(value)])),
    );
  }
  if (schema instanceof z.ZodArray) return z.array(snakeCaseSchema(schema.element as z.ZodType));
  if (schema instanceof z.ZodNullable) return snakeCaseSchema(schema.unwrap() as z.ZodType).nullable();
  if (schema instanceof z.ZodOptional) return snakeCaseSchema(schema.unwrap() as z.ZodType).optional();
  // A default only shapes input; an answer always carries the value, so the inner shape is what it has.
  if (schema instanceof z.ZodDefault) return snakeCaseSchema(schema.unwrap() as z.ZodType);
  return schema;
}

/** A request schema with its field names in snake_case, strict at every level like the original. */
export function snakeCaseInput(schema: z.ZodObject): z.ZodObject {
  const shape = schema.shape as Record<string, z.ZodType>;
  const renamed = Object.entries(shape).map(([key, value]) => {
    const inner = value instanceof z.ZodOptional ? (value.unwrap() as z.ZodType) : null;
    const mapped = inner instanceof z.ZodObject ? snakeCaseInput(inner).optional() : value;
    return [snakeCase(key), mapped] as const;
  });
  return z.strictObject(Object.fromEntries(renamed));
}

const chat = botChatRequestSchema.shape;

// --- `chatbotId` + `/knowledge` dialect

/** Body of `POST /api/v1/knowledge`: a source as `POST /chatbots/:id/sources` takes it, naming the bot. */
export const knowledgeCreateSchema = z.discriminatedUnion('type', [
  createTextSourceSchema.extend({ chatbotId: idOrSlugSchema }),
  createUrlSourceSchema.extend({ chatbotId: idOrSlugSchema }),
  createFileSourceSchema.extend({ chatbotId: idOrSlugSchema }),
]);

/** Query of `GET /api/v1/knowledge`: every source of the organization, or one bot's. */
export const knowledgeListQuerySchema = paginationQuerySchema
  .extend(listSourcesQuerySchema.shape)
  .extend({ chatbotId: idOrSlugSchema.optional() });

/** Body of `PUT /api/v1/chatbots/:id`: every editable field, defaults for those left out (the slug is kept). */
export const replaceChatbotSchema = createChatbotSchema;

// --- `/bots` dialect

/** Query of `GET /api/v1/bots/:bot_id/conversations`. */
export const botConversationsQuerySchema = listConversationsQuerySchema.omit({ chatbotId: true });

// --- `/chat/{slug}` dialect

/** Body of `POST /api/v1/chat/:slug`: `conversationId: null` starts a new conversation. */
export const slugChatRequestSchema = botChatRequestSchema.extend({
  conversationId: objectIdSchema.nullable().optional(),
});

/** Its answer: Wisp's chat answer plus `metadata.model` and `metadata.tokens`. */
export const slugChatResultSchema = chatResultSchema.extend({
  metadata: z.object({ model: z.string().nullable(), tokens: z.number().int() }),
});

// --- snake_case `/api/...` dialect

const withBot = { chatbot_id: idOrSlugSchema };
const snakeCrawlSchema = z.strictObject({
  mode: crawlModeSchema.default('page'),
  max_pages: z.number().int().min(1).max(MAX_CRAWL_PAGES).default(25),
});

/** Body of `POST /api/sources`: `text` and `url` as JSON, `file` as a multipart upload. */
export const snakeSourceCreateSchema = z.discriminatedUnion('type', [
  createTextSourceSchema.extend(withBot),
  createUrlSourceSchema.omit({ crawl: true }).extend({ ...withBot, crawl: snakeCrawlSchema.optional() }),
  createFileSourceSchema.extend(withBot),
]);

/** Query of `GET /api/sources`. */
export const snakeSourceListQuerySchema = paginationQuerySchema
  .extend(listSourcesQuerySchema.shape)
  .extend({ chatbot_id: idOrSlugSchema.optional() });

/** Query of `DELETE /api/sources?id=`. */
export const snakeSourceDeleteQuerySchema = z.object({ id: objectIdSchema });

/** Body of `POST /api/chat`. */
export const snakeChatRequestSchema = z.strictObject({
  message: chat.message,
  chatbot_id: idOrSlugSchema,
  session_id: chat.sessionId,
  conversation_id: objectIdSchema.nullable().optional(),
  client_message_id: chat.clientMessageId,
  user_token: chat.userToken,
  metadata: chat.metadata,
});

/** Query of `GET /api/leads`. */
export const snakeLeadsQuerySchema = paginationQuerySchema.extend({
  chatbot_id: idOrSlugSchema.optional(),
  from: dateQuerySchema.optional(),
  to: dateQuerySchema.optional(),
  q: z.string().trim().min(1).max(200).optional(),
});

/** A page of a list in the snake_case dialect: `meta: { page, per_page, total }`. */
export const snakePageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    success: z.literal(true),
    data: z.array(item),
    error: z.null(),
    meta: z.object({ page: z.number().int(), per_page: z.number().int(), total: z.number().int() }),
  });

/** Query of `/api/widget-config` and `/api/widget-settings`. */
export const snakeWidgetQuerySchema = z.object({ chatbot_id: idOrSlugSchema.optional() });

/** Body of `PUT /api/widget-settings`: the settings to change, in snake_case (the others stay). */
export const snakeWidgetSettingsSchema = snakeCaseInput(widgetSettingsPatchSchema);

export const snakeWidgetConfigSchema = snakeCaseSchema(widgetConfigSchema);
export const snakeWidgetSettingsStateSchema = snakeCaseSchema(widgetSettingsStateSchema);
export const snakeSourceSchema = snakeCaseSchema(sourceSchema);
export const snakeChatResultSchema = snakeCaseSchema(chatResultSchema);
export const snakeLeadSchema = snakeCaseSchema(leadListItemSchema);

// --- `/v1/query` dialect

/** Body of `POST /v1/query`; `chatbot_id` may be left out while the organization has one bot. */
export const queryRequestSchema = z.strictObject({
  message: chat.message,
  conversation_id: objectIdSchema.nullable().optional(),
  user_token: chat.userToken,
  chatbot_id: idOrSlugSchema.optional(),
  session_id: chat.sessionId,
  client_message_id: chat.clientMessageId,
  metadata: chat.metadata,
});

/** Its answer: the text, the passages used (document id and excerpt), the confidence, the conversation. */
export const queryAnswerSchema = z.object({
  answer: z.string(),
  sources: z.array(
    z.object({
      document_id: z.string(),
      title: z.string(),
      url: z.string().nullable(),
      excerpt: z.string(),
      score: z.number(),
    }),
  ),
  confidence: z.number(),
  conversation_id: z.string(),
  message_id: z.string(),
  model: z.string().nullable(),
  tokens_used: z.object({ prompt: z.number().int(), completion: z.number().int(), total: z.number().int() }),
  /** Set when the answer paused to ask before running an action: `POST /api/v1/chat/confirm` with the token. */
  requires_action: z
    .object({ token: z.string(), action: z.string(), description: z.string(), arguments: z.unknown() })
    .optional(),
});
