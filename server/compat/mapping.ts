import { snakeCase } from '../../shared/schemas/compat.js';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import { AppError } from '../errors/app-error.js';

/**
 * Fields whose values are key-value data (the caller's, named by CSS, or an action's arguments as its JSON
 * Schema names them): their keys are left as they are.
 */
const OPAQUE_FIELDS = new Set(['custom', 'metadata', 'strings', 'cssVariables', 'css_variables', 'arguments']);

/** A DTO with every field name in snake_case, at every depth, for the snake_case dialect. */
export function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [snakeCase(key), OPAQUE_FIELDS.has(key) ? child : snakeKeys(child)]),
  );
}

/** The inverse of {@link snakeKeys}: a snake_case request body as the services take it. */
export function camelKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [
      key.replace(/_([a-z0-9])/g, (_match, letter: string) => letter.toUpperCase()),
      OPAQUE_FIELDS.has(key) ? child : camelKeys(child),
    ]),
  );
}

/**
 * The bot a request means: the one it names, or, for dialects whose requests name none,
 * the organization's only bot (with several, the caller must say which).
 */
export async function chatbotFor(
  chatbots: ChatbotsService,
  organizationId: string,
  named: string | undefined,
  field: string,
): Promise<string> {
  if (named) return named;
  const { items, total } = await chatbots.list(organizationId, 1, 1);
  if (total === 1 && items[0]) return items[0].id;
  if (total === 0) throw new AppError('NotFoundError', { message: 'This organization has no chatbot yet' });
  throw new AppError('ValidationError', {
    message: `Invalid body: ${field}: this organization has ${total} chatbots; name one with ${field}`,
    details: { fields: [{ path: field, message: 'required when the organization has several chatbots' }] },
  });
}

/** The snake_case chat fields both snake_case dialects take (`/api/chat`, `/v1/query`). */
export interface SnakeChatFields {
  message: string;
  conversation_id?: string | null;
  session_id?: string;
  client_message_id?: string;
  user_token?: string;
  metadata?: Record<string, string | number | boolean | null>;
}

/** A chat turn from the snake_case fields: the dialects differ only in how they name the bot. */
export function snakeChatTurn(organizationId: string, chatbot: string, body: SnakeChatFields) {
  return {
    organizationId,
    chatbot,
    message: body.message,
    conversationId: body.conversation_id ?? null,
    sessionId: body.session_id ?? null,
    clientMessageId: body.client_message_id ?? null,
    userToken: body.user_token ?? null,
    metadata: body.metadata,
    channel: 'api' as const,
  };
}

/** The OpenAPI description of a multipart file upload whose bot is named by `botField`. */
export function fileUploadBody(botField: string) {
  return {
    'multipart/form-data': {
      type: 'object' as const,
      required: ['file', botField],
      properties: {
        file: { type: 'string' as const, format: 'binary', description: 'PDF, DOCX, Markdown, HTML or plain text' },
        [botField]: { type: 'string' as const, maxLength: 80 },
        title: { type: 'string' as const, maxLength: 200 },
      },
    },
  };
}
