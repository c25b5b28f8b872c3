import { z } from 'zod';
import { shortText } from './common.js';

export const ACTION_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** A `{params.x}` / `{user.sub}` placeholder, as templates spell it. */
export const PLACEHOLDER = /\{(params|user)\.([A-Za-z_][A-Za-z0-9_]{0,63})\}/g;

// No CR/LF or other control characters: a header value can never start another header.
const headerValue = z
  .string()
  .max(2_000)
  .regex(/^[\x20-\x7e]*$/, { message: 'printable ASCII only' });
const headerName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'must be an HTTP header name' });

const templateValue = z.string().max(2_000);

/** A JSON body template: strings may hold placeholders; a string that is exactly one placeholder keeps the value's type. */
const bodyTemplate = z
  .unknown()
  .refine((value) => value === undefined || JSON.stringify(value).length <= 20_000, {
    message: 'must be JSON of at most 20000 characters',
  })
  .meta({ description: 'A JSON value; strings may hold `{params.x}` / `{user.*}` placeholders' });

export const actionRequestSchema = z.strictObject({
  method: z.enum(ACTION_METHODS),
  /** Scheme and host are fixed; placeholders may fill path segments only. */
  url: z
    .string()
    .min(1)
    .max(1_000)
    .regex(/^[Hh][Tt][Tt][Pp][Ss]?:[/][/]/, { message: 'must be an http(s) URL' }),
  headers: z.record(headerName, headerValue).default({}),
  query: z.record(z.string().min(1).max(100), templateValue).default({}),
  body: bodyTemplate.optional(),
});

/** How the server authenticates to the connected system; the secret is sealed at rest and never returned. */
export const actionAuthSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({
    type: z.literal('bearer'),
    token: z
      .string()
      .min(1)
      .max(2_000)
      .regex(/^[\x21-\x7e]+$/),
  }),
  z.strictObject({
    type: z.literal('basic'),
    username: z
      .string()
      .max(500)
      .regex(/^[^:\r\n]*$/, { message: 'may not contain ":" or line breaks' }),
    password: z
      .string()
      .max(2_000)
      .regex(/^[^\r\n]*$/),
  }),
  z.strictObject({ type: z.literal('header'), name: headerName, value: headerValue.min(1) }),
]);

/** A tool name the model calls (the OpenAI function-name rules). */
const toolName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/, {
  message: 'letters, digits, _ and - (up to 64), not starting with a digit',
});

const actionFields = {
  name: toolName,
  description: shortText(1_000),
  /** A JSON Schema object describing the arguments; checked with ajv when saved and when called. */
  parameters: z.record(z.string(), z.unknown()),
  request: actionRequestSchema,
  auth: actionAuthSchema,
  requiresUser: z.boolean(),
  /** Defaults to true for any method but GET. */
  requiresConfirmation: z.boolean(),
  /** Dot paths of the JSON answer the model sees (all of it when empty). */
  responseFields: z.array(z.string().min(1).max(200)).max(50),
  timeoutMs: z.number().int().min(100).max(30_000),
  maxResponseBytes: z.number().int().min(256).max(1_000_000),
};

/** Body of `POST /api/v1/chatbots/:id/actions`. */
export const createActionSchema = z.strictObject({
  ...actionFields,
  parameters: actionFields.parameters.default({ type: 'object', properties: {} }),
  auth: actionAuthSchema.default({ type: 'none' }),
  requiresUser: actionFields.requiresUser.default(false),
  requiresConfirmation: actionFields.requiresConfirmation.optional(),
  responseFields: actionFields.responseFields.default([]),
  timeoutMs: actionFields.timeoutMs.default(10_000),
  maxResponseBytes: actionFields.maxResponseBytes.default(65_536),
});

/** Body of `PATCH /api/v1/actions/:id`: `request` is replaced whole, and its host is checked again. */
export const updateActionSchema = z.strictObject({
  name: actionFields.name.optional(),
  description: actionFields.description.optional(),
  parameters: actionFields.parameters.optional(),
  request: actionFields.request.optional(),
  auth: actionFields.auth.optional(),
  requiresUser: actionFields.requiresUser.optional(),
  requiresConfirmation: actionFields.requiresConfirmation.optional(),
  responseFields: actionFields.responseFields.optional(),
  timeoutMs: actionFields.timeoutMs.optional(),
  maxResponseBytes: actionFields.maxResponseBytes.optional(),
});

/** An action as returned: the auth secret never is, only its kind. */
export const actionSchema = z.object({
  id: z.string(),
  chatbotId: z.string(),
  name: z.string(),
  description: z.string(),
  parameters: z.record(z.string(), z.unknown()),
  request: z.object({
    method: z.enum(ACTION_METHODS),
    url: z.string(),
    headers: z.record(z.string(), z.string()),
    query: z.record(z.string(), z.string()),
    body: z.unknown().optional(),
  }),
  auth: z.object({ type: z.enum(['none', 'bearer', 'basic', 'header']), headerName: z.string().nullable() }),
  requiresUser: z.boolean(),
  requiresConfirmation: z.boolean(),
  responseFields: z.array(z.string()),
  timeoutMs: z.number().int(),
  maxResponseBytes: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** Body of `POST /api/v1/actions/:id/run`. */
export const runActionSchema = z.strictObject({
  parameters: z.record(z.string(), z.unknown()).default({}),
  /** The end user's JWT (signed with the bot's identity secret), for actions that use `{user.*}`. */
  userToken: z.string().min(1).max(4_000).optional(),
});

export const ACTION_RUN_SOURCES = ['chat', 'api', 'loop'] as const;
/**
 * `sending`: an agent-loop or chat call whose answer has not come back yet; `interrupted`: its execution, or its
 * chat turn (the server stopped or the client left), ended before the answer came (whether the connected system
 * acted is unknown to Wisp). A retried chat turn sends it again with the same key: `sending`, then its outcome.
 */
export const ACTION_RUN_STATUSES = ['succeeded', 'failed', 'refused', 'declined', 'sending', 'interrupted'] as const;

/** One invocation of an action, from a chat, an agent loop or the API. */
export const actionRunSchema = z.object({
  id: z.string(),
  actionId: z.string(),
  chatbotId: z.string(),
  source: z.enum(ACTION_RUN_SOURCES),
  status: z.enum(ACTION_RUN_STATUSES),
  /** The connected system's HTTP status, when it answered. */
  httpStatus: z.number().int().nullable(),
  durationMs: z.number().int(),
  error: z.string().nullable(),
  conversationId: z.string().nullable(),
  /** What the model saw (only `responseFields` of the answer). */
  result: z.unknown(),
  /** The `Idempotency-Key` header sent with an agent-loop call (the same on every send of that call). */
  idempotencyKey: z.string().nullable(),
  /** Times the request was sent: 2 or more when it was resent after an interruption, with the same key. */
  sends: z.number().int(),
  createdAt: z.string(),
});

export type CreateActionInput = z.infer<typeof createActionSchema>;
export type UpdateActionInput = z.infer<typeof updateActionSchema>;
export type ActionDto = z.infer<typeof actionSchema>;
export type ActionAuth = z.infer<typeof actionAuthSchema>;
export type ActionRequest = z.infer<typeof actionRequestSchema>;
export type ActionRunDto = z.infer<typeof actionRunSchema>;
export type ActionRunSource = (typeof ACTION_RUN_SOURCES)[number];
