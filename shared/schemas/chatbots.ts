import { z } from 'zod';
import { objectIdSchema, shortText } from './common.js';

const slugSchema = z
  .string()
  .min(1)
  .max(60)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, { message: 'must be lowercase letters and digits separated by single hyphens' })
  .refine((slug) => !/^[0-9a-f]{24}$/.test(slug), { message: 'must not look like an id' });

/** An origin the widget may be embedded on, e.g. `https://www.example.com`. */
export const originSchema = z
  .string()
  .max(200)
  .regex(/^[Hh][Tt][Tt][Pp][Ss]?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, {
    message: 'must be an origin like https://www.example.com (scheme, host and optional port, no path)',
  })
  .transform((origin) => origin.toLowerCase());

/** Which model a bot talks to and how. */
export const modelSettingsSchema = z.strictObject({
  integrationId: objectIdSchema.nullable().default(null),
  model: z.string().trim().min(1).max(100).nullable().default(null),
  temperature: z.number().min(0).max(2).default(0.3),
  maxTokens: z.number().int().min(16).max(16_000).default(800),
});

export const chatbotStatusSchema = z.enum(['active', 'disabled']);

/** Body of `POST /api/v1/chatbots`. */
export const createChatbotSchema = z.strictObject({
  name: shortText(100),
  slug: slugSchema.optional(),
  instructions: z.string().max(8_000).default(''),
  modelSettings: modelSettingsSchema.default({
    integrationId: null,
    model: null,
    temperature: 0.3,
    maxTokens: 800,
  }),
  allowedOrigins: z.array(originSchema).max(50).default([]),
  status: chatbotStatusSchema.default('active'),
});

/** Body of `PATCH /api/v1/chatbots/:id`: any subset of the fields. */
export const updateChatbotSchema = z.strictObject({
  name: shortText(100).optional(),
  slug: slugSchema.optional(),
  instructions: z.string().max(8_000).optional(),
  modelSettings: z
    .strictObject({
      integrationId: objectIdSchema.nullable().optional(),
      model: z.string().trim().min(1).max(100).nullable().optional(),
      temperature: z.number().min(0).max(2).optional(),
      maxTokens: z.number().int().min(16).max(16_000).optional(),
    })
    .optional(),
  allowedOrigins: z.array(originSchema).max(50).optional(),
  status: chatbotStatusSchema.optional(),
});

/** A chatbot as the API returns it. */
export const chatbotSchema = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  instructions: z.string(),
  modelSettings: z.object({
    integrationId: z.string().nullable(),
    model: z.string().nullable(),
    temperature: z.number(),
    maxTokens: z.number(),
  }),
  allowedOrigins: z.array(z.string()),
  status: chatbotStatusSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** A chatbot at creation: the identity secret is shown this once. */
export const createdChatbotSchema = chatbotSchema.extend({ identitySecret: z.string() });

export type CreateChatbotInput = z.infer<typeof createChatbotSchema>;
export type UpdateChatbotInput = z.infer<typeof updateChatbotSchema>;
export type ChatbotDto = z.infer<typeof chatbotSchema>;
