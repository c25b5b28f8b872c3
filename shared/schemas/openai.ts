import { z } from 'zod';
import { clientMessageIdSchema } from './chat.js';
import { metadataSchema, objectIdSchema } from './common.js';

// The OpenAI-compatible door (`/v1/chat/completions`, `/v1/models`): OpenAI's own request and answer shapes,
// with Wisp's citations and confidence in a `wisp` field that OpenAI clients ignore.

/** The most messages one request may carry (the history the model sees is trimmed to a budget anyway). */
export const MAX_OPENAI_MESSAGES = 200;

/** A text part, or another kind (image, audio, file) that the door refuses by name: the bot reads text only. */
const contentPartSchema = z.looseObject({ type: z.string().max(40) });

const contentSchema = z.union([z.string(), z.array(contentPartSchema).max(100)]);

/** Fields every message may carry that the door has no use for (OpenAI's `name`, tool and function calls). */
const ignoredMessageFields = {
  name: z.string().max(200).optional(),
};

/** One message of `messages`, as OpenAI's chat-completion request has it. */
export const openAiMessageSchema = z.discriminatedUnion('role', [
  z.strictObject({ role: z.literal('system'), content: contentSchema, ...ignoredMessageFields }),
  z.strictObject({ role: z.literal('developer'), content: contentSchema, ...ignoredMessageFields }),
  z.strictObject({ role: z.literal('user'), content: contentSchema, ...ignoredMessageFields }),
  z.strictObject({
    role: z.literal('assistant'),
    content: contentSchema.nullable().optional(),
    refusal: z.string().nullable().optional(),
    audio: z.unknown().optional(),
    tool_calls: z.array(z.unknown()).optional(),
    function_call: z.unknown().optional(),
    ...ignoredMessageFields,
  }),
  z.strictObject({ role: z.literal('tool'), content: contentSchema, tool_call_id: z.string().max(200) }),
  z.strictObject({ role: z.literal('function'), content: z.string().nullable(), name: z.string().max(200) }),
]);

const number = z.number().nullable().optional();
/** Accepted as OpenAI documents them and ignored: the bot's own model settings decide how it answers. */
const ignoredFields = {
  temperature: number,
  top_p: number,
  max_tokens: z.number().int().nullable().optional(),
  max_completion_tokens: z.number().int().nullable().optional(),
  frequency_penalty: number,
  presence_penalty: number,
  seed: z.number().int().nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4)])
    .nullable()
    .optional(),
  logit_bias: z.record(z.string(), z.number()).nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: z.number().int().nullable().optional(),
  response_format: z.unknown().optional(),
  tools: z.array(z.unknown()).optional(),
  tool_choice: z.unknown().optional(),
  parallel_tool_calls: z.boolean().optional(),
  functions: z.array(z.unknown()).optional(),
  function_call: z.unknown().optional(),
  audio: z.unknown().optional(),
  modalities: z.array(z.string()).nullable().optional(),
  prediction: z.unknown().optional(),
  reasoning_effort: z.string().nullable().optional(),
  verbosity: z.string().nullable().optional(),
  service_tier: z.string().nullable().optional(),
  store: z.boolean().nullable().optional(),
  moderation: z.unknown().optional(),
  prompt_cache_key: z.string().nullable().optional(),
  prompt_cache_retention: z.string().nullable().optional(),
  prompt_cache_options: z.unknown().optional(),
  safety_identifier: z.string().nullable().optional(),
  web_search_options: z.unknown().optional(),
};

/** Body of `POST /v1/chat/completions`. */
export const openAiChatRequestSchema = z.strictObject({
  model: z.string().min(1).max(200).meta({ description: "The chatbot's slug or id (`GET /v1/models` lists them)" }),
  messages: z
    .array(openAiMessageSchema)
    .min(1, { message: 'must hold at least one message' })
    .max(MAX_OPENAI_MESSAGES)
    .meta({ description: 'The last message must be a `user` message (the question); earlier ones are the history' }),
  stream: z.boolean().nullable().optional(),
  stream_options: z
    .strictObject({ include_usage: z.boolean().optional(), include_obfuscation: z.boolean().optional() })
    .nullable()
    .optional(),
  n: z.number().int().nullable().optional().meta({ description: 'Only 1: a bot gives one answer' }),
  user: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9_:.@-]+$/, { message: 'letters, digits and _ : . @ - only' })
    .optional()
    .meta({ description: "Your end user's id: their stored conversation with the bot continues (as `sessionId`)" }),
  metadata: metadataSchema.nullable().optional(),
  ...ignoredFields,
  conversation_id: objectIdSchema
    .optional()
    .meta({ description: 'Wisp extension: continue this stored conversation (from an earlier answer’s `wisp`)' }),
  client_message_id: clientMessageIdSchema
    .optional()
    .meta({ description: 'Wisp extension: makes a retry safe (the same id answers the stored answer again)' }),
  user_token: z
    .string()
    .min(1)
    .max(4_000)
    .optional()
    .meta({ description: "Wisp extension: the end user's JWT signed with the bot's identity secret" }),
});

export type OpenAiChatRequest = z.output<typeof openAiChatRequestSchema>;
export type OpenAiMessage = z.output<typeof openAiMessageSchema>;

const usageSchema = z.object({
  prompt_tokens: z.number().int(),
  completion_tokens: z.number().int(),
  total_tokens: z.number().int(),
});

/** Wisp's part of an answer, in a field OpenAI clients ignore. */
export const wispExtensionSchema = z.object({
  conversation_id: z.string(),
  message_id: z.string(),
  user_message_id: z.string(),
  sources: z.array(
    z.object({
      source_id: z.string(),
      title: z.string(),
      url: z.string().nullable(),
      excerpt: z.string(),
      score: z.number(),
    }),
  ),
  confidence: z.number(),
  model: z.string().nullable().meta({ description: 'The language model that wrote the answer (null: none)' }),
  finish_reason: z.string(),
  requires_action: z
    .object({ token: z.string(), action: z.string(), description: z.string(), arguments: z.unknown() })
    .nullable()
    .meta({
      description:
        'Set when the answer paused to ask before running an action (`finish_reason` `requires_action`): approve or decline it with `POST /api/v1/chat/confirm` `{ "token", "approve" }` and the same API key; the token works once',
    }),
});

/** The JSON answer of `POST /v1/chat/completions`. */
export const openAiChatCompletionSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.null(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal('assistant'), content: z.string(), refusal: z.null() }),
      logprobs: z.null(),
      finish_reason: z.enum(['stop', 'length', 'content_filter']),
    }),
  ),
  usage: usageSchema,
  wisp: wispExtensionSchema,
});

/** One `data:` line of a streamed answer; the last carries `finish_reason`, `usage` and `wisp`. */
export const openAiChatCompletionChunkSchema = z.object({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.number().int(),
  model: z.string(),
  system_fingerprint: z.null(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({ role: z.literal('assistant').optional(), content: z.string().optional() }),
      logprobs: z.null(),
      finish_reason: z.enum(['stop', 'length', 'content_filter']).nullable(),
    }),
  ),
  usage: usageSchema.nullable().optional(),
  wisp: wispExtensionSchema.optional(),
});

/** A chatbot as a model of `GET /v1/models`. */
export const openAiModelSchema = z.object({
  id: z.string().meta({ description: "The chatbot's slug" }),
  object: z.literal('model'),
  created: z.number().int(),
  owned_by: z.string(),
  wisp: z.object({ chatbot_id: z.string(), name: z.string(), status: z.enum(['active', 'disabled']) }),
});

export const openAiModelListSchema = z.object({ object: z.literal('list'), data: z.array(openAiModelSchema) });

/** OpenAI's error body, which these routes answer instead of the envelope. */
export const openAiErrorSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
