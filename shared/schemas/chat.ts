import { z } from 'zod';
import { idOrSlugSchema, metadataSchema, objectIdSchema } from './common.js';

/** Messages longer than this are refused with 413 (PayloadTooLargeError). */
export const MAX_MESSAGE_CHARS = 32 * 1024;

/** A client-chosen id that makes a retry safe (the same id returns the stored answer). */
export const clientMessageIdSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_:-]+$/, { message: 'letters, digits, _, : and - only' });

const chatFields = {
  // The length cap is checked by the chat service so that an oversized message answers 413, not 422.
  message: z.string().trim().min(1, { message: 'must not be empty' }),
  conversationId: objectIdSchema.optional(),
  sessionId: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9_:.@-]+$/, { message: 'letters, digits and _ : . @ - only' })
    .optional(),
  stream: z.boolean().default(false),
  clientMessageId: clientMessageIdSchema.optional(),
  userToken: z.string().min(1).max(4_000).optional(),
  metadata: metadataSchema.optional(),
};

/** Body of `POST /api/v1/chatbots/:id/chat`. */
export const botChatRequestSchema = z.strictObject(chatFields);

/** Body of `POST /api/v1/chat`: the same, naming the bot by id or slug. */
export const chatRequestSchema = z
  .strictObject({
    ...chatFields,
    chatbotId: idOrSlugSchema.optional(),
    chatbot: idOrSlugSchema.optional(),
  })
  .refine((body) => Boolean(body.chatbotId ?? body.chatbot), {
    message: 'name the bot with chatbotId (id) or chatbot (slug)',
    path: ['chatbotId'],
  })
  // The document states the rule the refinement checks: one of the two is required.
  .meta({ anyOf: [{ required: ['chatbotId'] }, { required: ['chatbot'] }] });

/** A cited passage of the bot's knowledge. */
export const sourceRefSchema = z.object({
  sourceId: z.string(),
  title: z.string(),
  url: z.string().nullable(),
  excerpt: z.string(),
  score: z.number(),
});

export const tokensUsedSchema = z.object({
  prompt: z.number().int(),
  completion: z.number().int(),
  total: z.number().int(),
});

/** The answer of a chat request (the JSON body's `data`, and the SSE `done` event's fields). */
export const chatResultSchema = z.object({
  response: z.string(),
  conversationId: z.string(),
  messageId: z.string(),
  userMessageId: z.string(),
  sources: z.array(sourceRefSchema),
  confidence: z.number(),
  tokensUsed: tokensUsedSchema,
  model: z.string().nullable(),
  finishReason: z.string(),
  /** Set when the turn stopped to ask before running an action: confirm or decline it with the token. */
  requiresAction: z
    .object({ token: z.string(), action: z.string(), description: z.string(), arguments: z.unknown() })
    .optional(),
});

export type ChatRequest = z.infer<typeof chatRequestSchema>;
export type SourceRef = z.infer<typeof sourceRefSchema>;
export type ChatResult = z.infer<typeof chatResultSchema>;

/** One message of a conversation, as the API and the widget see it. */
export const messageSchema = z.object({
  id: z.string(),
  conversationId: z.string(),
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  status: z.enum(['complete', 'pending', 'failed']),
  clientMessageId: z.string().nullable(),
  sources: z.array(sourceRefSchema),
  confidence: z.number().nullable(),
  feedback: z.enum(['up', 'down']).nullable(),
  /**
   * What the widget adds in its own words: `knowledge_only`, the language model could not answer
   * (down, or out of quota), so this answer holds the knowledge base's passages alone; `ask_email`,
   * the bot could not answer and invites the visitor to leave an email (`askEmailWhenUnanswered`).
   */
  notice: z.enum(['knowledge_only', 'ask_email']).nullable(),
  /** The actions the model called for this answer (the transcript shows them). */
  toolCalls: z
    .array(
      z.object({
        name: z.string(),
        arguments: z.unknown(),
        status: z.string(),
        result: z.unknown(),
        error: z.string().nullable(),
      }),
    )
    .optional(),
  /**
   * The action this answer waits for the visitor to approve or decline (the widget shows a card for it; API
   * clients answer with the chat answer's `requiresAction.token`).
   */
  pendingAction: z.object({ action: z.string(), description: z.string(), arguments: z.unknown() }).optional(),
  createdAt: z.string(),
});

export type MessageDto = z.infer<typeof messageSchema>;

/** Body of `POST /api/v1/messages/:id/feedback`. */
export const feedbackSchema = z.strictObject({
  rating: z.enum(['up', 'down']),
  comment: z.string().trim().max(1_000).optional(),
});
