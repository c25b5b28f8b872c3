import { z } from 'zod';
import { shortText } from './common.js';

/** What an API key may do; `admin` implies every other scope. */
export const API_KEY_SCOPES = [
  'chat',
  'knowledge:read',
  'knowledge:write',
  'conversations:read',
  'conversations:write',
  'leads:read',
  'leads:write',
  'settings:write',
  'actions:write',
  'actions:run',
  'agent_loops:write',
  'agent_loops:run',
  'admin',
] as const;

/** One scope of {@link API_KEY_SCOPES}. */
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const apiKeyScopeSchema = z.enum(API_KEY_SCOPES);

/** Body of `POST /api/v1/api-keys`. */
export const createApiKeySchema = z.strictObject({
  name: shortText(100),
  scopes: z.array(apiKeyScopeSchema).min(1).max(API_KEY_SCOPES.length),
});

/** An API key as listed: never the secret, only its display prefix. */
export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(apiKeyScopeSchema),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

/** An API key at creation or rotation: the only time `key` is shown. */
export const createdApiKeySchema = apiKeySchema.extend({ key: z.string() });

export type ApiKeyDto = z.infer<typeof apiKeySchema>;
export type CreatedApiKeyDto = z.infer<typeof createdApiKeySchema>;
