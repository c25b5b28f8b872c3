import { z } from 'zod';
import { shortText } from './common.js';

const baseUrlSchema = z
  .string()
  .max(500)
  .url({ message: 'must be a URL' })
  .refine((value) => /^https?:\/\//i.test(value), { message: 'must be an http(s) URL' });

const modelName = z.string().trim().min(1).max(100);

/** Body of `POST /api/v1/integrations`: an OpenAI-compatible model connection. */
export const createIntegrationSchema = z.strictObject({
  name: shortText(100),
  baseUrl: baseUrlSchema,
  apiKey: z.string().min(1).max(500),
  chatModel: modelName.nullable().default(null),
  embeddingModel: modelName.nullable().default(null),
});

/** Body of `PATCH /api/v1/integrations/:id`. */
export const updateIntegrationSchema = z.strictObject({
  name: shortText(100).optional(),
  baseUrl: baseUrlSchema.optional(),
  apiKey: z.string().min(1).max(500).optional(),
  chatModel: modelName.nullable().optional(),
  embeddingModel: modelName.nullable().optional(),
});

/** A model connection as returned: the API key is never sent back, only whether one is set. */
export const integrationSchema = z.object({
  id: z.string(),
  name: z.string(),
  baseUrl: z.string(),
  hasApiKey: z.boolean(),
  chatModel: z.string().nullable(),
  embeddingModel: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export type CreateIntegrationInput = z.infer<typeof createIntegrationSchema>;
export type UpdateIntegrationInput = z.infer<typeof updateIntegrationSchema>;
export type IntegrationDto = z.infer<typeof integrationSchema>;
