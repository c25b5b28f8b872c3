/**
 * What an API key may do; `admin` implies every other scope. Kept free of zod, so the owner
 * console can list the scopes without bundling the schemas.
 */
export const API_KEY_SCOPES = [
  'chat',
  'knowledge:read',
  'knowledge:write',
  'conversations:read',
  'conversations:write',
  'leads:read',
  'leads:write',
  'settings:write',
  'analytics:read',
  'webhooks:read',
  'webhooks:write',
  'channels:read',
  'channels:write',
  'actions:write',
  'actions:run',
  'agent_loops:write',
  'agent_loops:run',
  'admin',
] as const;

/** One scope of {@link API_KEY_SCOPES}. */
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];
