import { z } from 'zod';
import { apiKeyScopeSchema } from './api-keys.js';

/** Body of `POST /api/v1/console/sessions`: an API key pasted once, or the token of a one-time console link. */
export const createConsoleSessionSchema = z
  .strictObject({
    apiKey: z.string().min(1).max(200).optional(),
    link: z.string().min(1).max(200).optional(),
  })
  .refine((body) => (body.apiKey === undefined) !== (body.link === undefined), {
    message: 'send exactly one of apiKey and link',
  });

/** A console session as listed: never its token. */
export const consoleSessionSchema = z.object({
  id: z.string(),
  /** The API key the session was opened with; null for a one-time link (which grants `admin`). */
  keyId: z.string().nullable(),
  via: z.enum(['api-key', 'link']),
  scopes: z.array(apiKeyScopeSchema),
  userAgent: z.string().nullable(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string(),
  revokedAt: z.string().nullable(),
  /** True for the session that made this request. */
  current: z.boolean(),
});

/** The session that made the request, with the token the console sends in `X-CSRF-Token` on every change. */
export const currentConsoleSessionSchema = consoleSessionSchema.extend({
  organizationId: z.string(),
  csrfToken: z.string(),
});

export type CreateConsoleSessionInput = z.infer<typeof createConsoleSessionSchema>;
export type ConsoleSessionDto = z.infer<typeof consoleSessionSchema>;
export type CurrentConsoleSessionDto = z.infer<typeof currentConsoleSessionSchema>;
