import { Schema, type Connection, type InferSchemaType } from 'mongoose';
import { ACTION_RUN_SOURCES, ACTION_RUN_STATUSES } from '../../shared/schemas/actions.js';

/** A bot's HTTP action (a tool the model may call); the auth secret is sealed with SECRET_KEY. */
const actionSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true },
    description: { type: String, required: true },
    parameters: { type: Schema.Types.Mixed, required: true },
    request: { type: Schema.Types.Mixed, required: true },
    authType: { type: String, enum: ['none', 'bearer', 'basic', 'header'], required: true },
    authHeaderName: { type: String, default: null },
    /** The whole auth object as sealed JSON; null for `none`. */
    authEncrypted: { type: String, default: null },
    requiresUser: { type: Boolean, required: true },
    requiresConfirmation: { type: Boolean, required: true },
    responseFields: { type: [String], default: [] },
    timeoutMs: { type: Number, required: true },
    maxResponseBytes: { type: Number, required: true },
  },
  { timestamps: true, minimize: false },
);
actionSchema.index({ chatbotId: 1, name: 1 }, { unique: true });
actionSchema.index({ organizationId: 1 });

export function actionModel(connection: Connection) {
  return connection.model('Action', actionSchema, 'actions');
}

export type ActionModel = ReturnType<typeof actionModel>;
export type ActionDoc = InferSchemaType<typeof actionSchema>;
export type ActionRecord = Awaited<ReturnType<ActionModel['findOne']>> & object;

/** One invocation of an action: who called it, how it went (never the secret, never the raw answer). */
const actionRunSchema = new Schema(
  {
    organizationId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    actionId: { type: Schema.Types.ObjectId, required: true },
    source: { type: String, enum: ACTION_RUN_SOURCES, required: true },
    status: { type: String, enum: ACTION_RUN_STATUSES, required: true },
    httpStatus: { type: Number, default: null },
    durationMs: { type: Number, required: true },
    error: { type: String, default: null },
    conversationId: { type: Schema.Types.ObjectId, default: null },
    executionId: { type: Schema.Types.ObjectId, default: null },
    arguments: { type: Schema.Types.Mixed, default: null },
    result: { type: Schema.Types.Mixed, default: null },
    /** The `Idempotency-Key` header sent (agent-loop and chat calls); the same on every send of one call. */
    idempotencyKey: { type: String, default: null },
    /** Times the request was sent: more than 1 when it was resent after an interruption. */
    sends: { type: Number, default: 1 },
  },
  { timestamps: { createdAt: true, updatedAt: false }, minimize: false },
);
actionRunSchema.index({ actionId: 1, createdAt: -1, _id: -1 });
actionRunSchema.index({ chatbotId: 1 });
actionRunSchema.index({ executionId: 1, status: 1 });

export function actionRunModel(connection: Connection) {
  return connection.model('ActionRun', actionRunSchema, 'action_runs');
}

export type ActionRunModel = ReturnType<typeof actionRunModel>;

/**
 * An action call's intent, written before the request is sent: one per (agent-loop execution, model step and
 * tool-call id), or per (chat answer, call key), so a retried execution or chat turn finds the calls its cut
 * attempt made. `outcome` is null until the connected system answered; the run record (`runId`) shows the call
 * meanwhile as `sending`.
 */
const actionCallIntentSchema = new Schema(
  {
    /** The calls' scope: the agent-loop execution, or for a chat call the answer message of its turn. */
    executionId: { type: Schema.Types.ObjectId, required: true },
    chatbotId: { type: Schema.Types.ObjectId, required: true },
    /** `<model step>:<tool-call id>` within an execution; for a chat call see `chatCallKey` (tool-turn.ts). */
    callKey: { type: String, required: true },
    actionId: { type: Schema.Types.ObjectId, required: true },
    runId: { type: Schema.Types.ObjectId, required: true },
    idempotencyKey: { type: String, required: true },
    sends: { type: Number, default: 0 },
    outcome: { type: Schema.Types.Mixed, default: null },
  },
  { timestamps: true, minimize: false },
);
actionCallIntentSchema.index({ executionId: 1, callKey: 1 }, { unique: true });
actionCallIntentSchema.index({ chatbotId: 1 });
// The sweep of chat calls left `sending` finds their turns by run.
actionCallIntentSchema.index({ runId: 1 });

export function actionCallIntentModel(connection: Connection) {
  return connection.model('ActionCallIntent', actionCallIntentSchema, 'action_call_intents');
}

export type ActionCallIntentModel = ReturnType<typeof actionCallIntentModel>;
