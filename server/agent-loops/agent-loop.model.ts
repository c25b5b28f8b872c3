import { Schema, type Connection } from 'mongoose';
import { addLeasedJobIndexes, leasedJobFields } from '../queue/lease-queue.js';

/** An autonomous workflow: a goal, tools, limits, and optionally a schedule. */
const agentLoopSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true },
    instructions: { type: String, required: true },
    tools: { type: [String], default: [] },
    input: { type: Schema.Types.Mixed, required: true },
    schedule: { type: Schema.Types.Mixed, default: null },
    /** The schedule's next due time; advanced atomically by whichever node enqueues it. */
    nextRunAt: { type: Date, default: null },
    maxSteps: { type: Number, required: true },
    maxTokens: { type: Number, required: true },
    timeoutMs: { type: Number, required: true },
    enabled: { type: Boolean, required: true },
  },
  { timestamps: true, minimize: false },
);
agentLoopSchema.index({ organizationId: 1, createdAt: -1, _id: -1 });
agentLoopSchema.index({ enabled: 1, nextRunAt: 1 });

export function agentLoopModel(connection: Connection) {
  return connection.model('AgentLoop', agentLoopSchema, 'agent_loops');
}
export type AgentLoopModel = ReturnType<typeof agentLoopModel>;
export type AgentLoopRecord = Awaited<ReturnType<AgentLoopModel['findOne']>> & object;

/** One run of a loop, and the durable job that runs it (lease fields from the shared queue). */
const executionSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    loopId: { type: Schema.Types.ObjectId, required: true },
    trigger: { type: String, enum: ['api', 'schedule'], required: true },
    /** For scheduled runs, the due time: unique per loop, so every node may try and only one enqueues. */
    scheduledFor: { type: Date, default: null },
    /** `api:<id>` for runs on demand (the unique index needs a value). */
    dedupeKey: { type: String, required: true },
    input: { type: Schema.Types.Mixed, default: {} },
    outcome: { type: String, default: null },
    steps: { type: [Schema.Types.Mixed], default: [] },
    /**
     * The model conversation so far (prompt, model steps, tool results), saved after each step, so a retry
     * resumes from the last completed step (see `TurnProgress`).
     */
    progress: { type: Schema.Types.Mixed, default: null },
    output: { type: String, default: null },
    error: { type: String, default: null },
    interruptions: { type: Number, default: 0 },
    startedAt: { type: Date, default: null },
    durationMs: { type: Number, default: null },
    ...leasedJobFields,
  },
  { timestamps: true, minimize: false },
);
executionSchema.index({ loopId: 1, dedupeKey: 1 }, { unique: true });
executionSchema.index({ loopId: 1, createdAt: -1, _id: -1 });
addLeasedJobIndexes(executionSchema);

export function executionModel(connection: Connection) {
  return connection.model('AgentLoopExecution', executionSchema, 'agent_loop_executions');
}
export type ExecutionModel = ReturnType<typeof executionModel>;
export type ExecutionRecord = Awaited<ReturnType<ExecutionModel['findOne']>> & object;
