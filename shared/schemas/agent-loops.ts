import { z } from 'zod';
import { objectIdSchema, shortText } from './common.js';

/** The built-in tool that searches the bot's knowledge. */
export const SEARCH_KNOWLEDGE = 'search_knowledge';

const scheduleSchema = z.strictObject({
  /** A cron pattern (5 or 6 fields), checked with croner. */
  cron: z.string().min(1).max(100),
  /** An IANA time zone, e.g. Europe/Berlin. */
  timezone: z.string().min(1).max(64).default('UTC'),
});

const loopFields = {
  name: shortText(100),
  chatbotId: objectIdSchema,
  /** The goal, given to the model as its instructions. */
  instructions: shortText(8_000),
  /** Action ids of the loop's bot, and `search_knowledge`. */
  tools: z.array(z.string().min(1).max(40)).max(20),
  /** A JSON Schema object the run input must satisfy. */
  input: z.record(z.string(), z.unknown()),
  schedule: scheduleSchema.nullable(),
  maxSteps: z.number().int().min(1).max(20),
  maxTokens: z.number().int().min(100).max(200_000),
  timeoutMs: z.number().int().min(1_000).max(600_000),
  enabled: z.boolean(),
};

/** Body of `POST /api/v1/agent-loops`. */
export const createAgentLoopSchema = z.strictObject({
  ...loopFields,
  tools: loopFields.tools.default([]),
  input: loopFields.input.default({ type: 'object', properties: {} }),
  schedule: loopFields.schedule.default(null),
  maxSteps: loopFields.maxSteps.default(5),
  maxTokens: loopFields.maxTokens.default(8_000),
  timeoutMs: loopFields.timeoutMs.default(60_000),
  enabled: loopFields.enabled.default(true),
});

/** Body of `PATCH /api/v1/agent-loops/:id`. */
export const updateAgentLoopSchema = z.strictObject({
  name: loopFields.name.optional(),
  instructions: loopFields.instructions.optional(),
  tools: loopFields.tools.optional(),
  input: loopFields.input.optional(),
  schedule: loopFields.schedule.optional(),
  maxSteps: loopFields.maxSteps.optional(),
  maxTokens: loopFields.maxTokens.optional(),
  timeoutMs: loopFields.timeoutMs.optional(),
  enabled: loopFields.enabled.optional(),
});

export const agentLoopSchema = z.object({
  id: z.string(),
  name: z.string(),
  chatbotId: z.string(),
  instructions: z.string(),
  tools: z.array(z.string()),
  input: z.record(z.string(), z.unknown()),
  schedule: z.object({ cron: z.string(), timezone: z.string() }).nullable(),
  /** When the schedule runs the loop next (null without a schedule or when disabled). */
  nextRunAt: z.string().nullable(),
  maxSteps: z.number().int(),
  maxTokens: z.number().int(),
  timeoutMs: z.number().int(),
  enabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** Body of `POST /api/v1/agent-loops/:id/run`. */
export const runAgentLoopSchema = z.strictObject({ input: z.record(z.string(), z.unknown()).default({}) });

export const EXECUTION_STATUSES = [
  'queued',
  'running',
  'completed',
  'failed',
  'step_limit',
  'token_limit',
  'timeout',
  'interrupted',
] as const;

/** One step of an execution: a model call or a tool call. */
export const executionStepSchema = z.object({
  type: z.enum(['model', 'tool']),
  name: z.string().nullable(),
  arguments: z.unknown(),
  result: z.unknown(),
  status: z.string().nullable(),
  tokens: z.object({ prompt: z.number().int(), completion: z.number().int() }).nullable(),
  durationMs: z.number().int().nullable(),
});

export const executionSchema = z.object({
  id: z.string(),
  loopId: z.string(),
  trigger: z.enum(['api', 'schedule']),
  status: z.enum(EXECUTION_STATUSES),
  input: z.unknown(),
  steps: z.array(executionStepSchema),
  output: z.string().nullable(),
  error: z.string().nullable(),
  attempts: z.number().int(),
  /** Attempts cut short by a stopped or crashed server (the execution is retried once). */
  interruptions: z.number().int(),
  scheduledFor: z.string().nullable(),
  durationMs: z.number().int().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});

export type CreateAgentLoopInput = z.infer<typeof createAgentLoopSchema>;
export type UpdateAgentLoopInput = z.infer<typeof updateAgentLoopSchema>;
export type AgentLoopDto = z.infer<typeof agentLoopSchema>;
export type ExecutionDto = z.infer<typeof executionSchema>;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
