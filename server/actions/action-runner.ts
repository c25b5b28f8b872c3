import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import type { ActionAuth, ActionRequest, ActionRunSource } from '../../shared/schemas/actions.js';
import type { EndUser } from '../chat/chat.types.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Logger } from '../logger.js';
import { refusalIn } from '../net/guarded-fetch.js';
import { isDuplicateKeyError } from '../errors/duplicate-key.js';
import { linkSignalWithTimeout } from '../lib/linked-signal.js';
import type { ActionCallIntentModel, ActionRecord, ActionRunModel } from './action.model.js';
import { renderRequest, TemplateValueError, usesUser } from './action-template.js';
import { validateArguments, type SchemaProblem } from './parameter-schema.js';

/** Stored on a chat call whose turn stopped while its request was out. */
export const ABANDONED_CHAT_CALL =
  'the chat turn stopped before the connected system answered, so whether it acted is unknown; retrying the message or confirmation sends it again with the same Idempotency-Key';

/** One call of an action, from whichever caller. */
export interface ActionCall {
  action: ActionRecord;
  args: Record<string, unknown>;
  user: EndUser | null;
  source: ActionRunSource;
  conversationId?: string | null;
  executionId?: string | null;
  /** A chat call's turn: the answer message it is made for (the same message when a failed turn is retried). */
  turnId?: string | null;
  /**
   * The call's key within its execution (`<model step>:<tool-call id>`) or its chat turn (see `chatCallKey`):
   * the call is then made effectively once (see `ActionRunner.runOnce`).
   */
  callKey?: string | null;
  signal?: AbortSignal;
}

/** How a call went; `result` is what the model sees, `error` is in our own words (never a secret). */
export interface ActionOutcome {
  runId: string;
  status: 'succeeded' | 'failed' | 'refused';
  httpStatus: number | null;
  result: unknown;
  error: string | null;
  /** Failing arguments, when the call was refused for them. */
  problems: SchemaProblem[];
  durationMs: number;
  /** Times the request was sent (agent-loop calls resent after an interruption: more than 1). */
  sends?: number;
  /** True when a retried execution reused the stored answer of a call its cut attempt made. */
  reused?: boolean;
}

type Attempt = Omit<ActionOutcome, 'runId' | 'durationMs' | 'sends' | 'reused'>;

/**
 * The `Idempotency-Key` of a call made once: derived from its scope (an agent-loop execution or a chat turn's
 * answer) and its key, so every send of that call carries it.
 */
export function idempotencyKeyOf(scopeId: string, callKey: string): string {
  return `wisp-${scopeId}-${createHash('sha256').update(callKey).digest('hex').slice(0, 24)}`;
}

/** Sets `name` in `headers`, replacing any spelling of it the template had. */
function withHeader(headers: Record<string, string>, name: string, value: string): Record<string, string> {
  const kept = Object.entries(headers).filter(([key]) => key.toLowerCase() !== name.toLowerCase());
  return { ...Object.fromEntries(kept), [name]: value };
}

class CallFailed extends Error {
  constructor(
    message: string,
    readonly status: 'failed' | 'refused',
    readonly httpStatus: number | null = null,
    readonly problems: SchemaProblem[] = [],
  ) {
    super(message);
  }
}

/** Reads at most `limit` bytes of a body; more is a failure, not a silent cut. */
async function readLimited(body: ReadableStream<Uint8Array> | null, limit: number): Promise<string> {
  if (!body) return '';
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new CallFailed(`the answer is larger than maxResponseBytes (${limit})`, 'failed');
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

function pick(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Only the fields the operator chose reach the model (all of the answer when none were chosen). */
export function selectFields(data: unknown, fields: string[]): unknown {
  if (fields.length === 0) return data;
  return Object.fromEntries(fields.map((field) => [field, pick(data, field) ?? null]));
}

function authHeaders(auth: ActionAuth): Record<string, string> {
  switch (auth.type) {
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
    case 'header':
      return { [auth.name]: auth.value };
    default:
      return {};
  }
}

/**
 * Runs actions: checks the arguments and the visitor, fills the template, calls the connected system through
 * the guarded fetch (address policy, no redirects, a timeout, a size cap), keeps the chosen fields of the
 * answer and records the run.
 */
export class ActionRunner {
  constructor(
    private readonly models: { ActionRun: ActionRunModel; ActionCallIntent: ActionCallIntentModel },
    private readonly secrets: SecretBox,
    private readonly fetch: typeof globalThis.fetch,
    private readonly logger: Logger,
  ) {}

  async run(call: ActionCall): Promise<ActionOutcome> {
    const scopeId = call.executionId ?? call.turnId;
    if (scopeId && call.callKey) return this.runOnce(call, scopeId, call.callKey);
    const started = performance.now();
    const outcome = await this.attempt(call, null);
    const durationMs = Math.round(performance.now() - started);
    const run = await this.models.ActionRun.create({
      ...this.runFields(call),
      status: outcome.status,
      httpStatus: outcome.httpStatus,
      durationMs,
      error: outcome.error,
      result: outcome.result,
    });
    return { runId: run._id.toString(), durationMs, ...outcome };
  }

  /**
   * A call made effectively once per (scope, call key) across crashes and retries, where the scope is an
   * agent-loop execution or a chat turn's answer:
   *
   * 1. the intent is written first (unique per scope and key), and the run shows `sending`;
   * 2. the request carries an `Idempotency-Key` derived from that key;
   * 3. the answer is stored with the intent.
   *
   * A retried execution or chat turn that reaches the same call reuses a stored answer without sending anything. An intent
   * without an answer (the server died while the request was out) is sent again with the same key, and the run
   * counts the sends. Whether the first request reached the connected system is unknowable, so without the
   * target's help a call is at least once; a target that honours `Idempotency-Key` acts on it exactly once.
   */
  private async runOnce(call: ActionCall, scopeId: string, callKey: string): Promise<ActionOutcome> {
    const { action } = call;
    const Intent = this.models.ActionCallIntent;
    const key = { executionId: new Types.ObjectId(scopeId), callKey };
    const answered = async () => {
      const found = await Intent.findOne({ ...key, outcome: { $ne: null } });
      return found ? this.reuse(found) : null;
    };
    const idempotencyKey = idempotencyKeyOf(scopeId, callKey);
    let intent;
    try {
      intent = await Intent.findOneAndUpdate(
        { ...key, outcome: null },
        {
          $setOnInsert: {
            chatbotId: action.chatbotId,
            actionId: action._id,
            runId: new Types.ObjectId(),
            idempotencyKey,
          },
          $inc: { sends: 1 },
        },
        { upsert: true, returnDocument: 'after' },
      );
    } catch (error) {
      // The call has an answer (`outcome: null` matched nothing, so the upsert met the unique key): a retry, or
      // another holder of the execution answered it in between. That answer stands, unsent again.
      if (!isDuplicateKeyError(error)) throw error;
      const other = await answered();
      if (!other) throw error;
      return other;
    }
    const runId = intent!.runId;
    const sends = intent!.sends;
    await this.models.ActionRun.updateOne(
      { _id: runId },
      { $setOnInsert: { ...this.runFields(call), durationMs: 0, idempotencyKey }, $set: { status: 'sending', sends } },
      { upsert: true },
    );
    const started = performance.now();
    const outcome = await this.attempt(call, idempotencyKey);
    const durationMs = Math.round(performance.now() - started);
    // Cut by this node stopping, the loop's time running out or the chat client leaving: no answer to keep; a
    // retry sends it again.
    if (call.signal?.aborted && outcome.status !== 'succeeded')
      return { runId: runId.toString(), durationMs, sends, ...outcome };
    await this.models.ActionRun.updateOne(
      { _id: runId },
      {
        $set: {
          status: outcome.status,
          httpStatus: outcome.httpStatus,
          durationMs,
          error: outcome.error,
          result: outcome.result,
        },
      },
    );
    await Intent.updateOne({ _id: intent!._id }, { $set: { outcome: { ...outcome, durationMs } } });
    return { runId: runId.toString(), durationMs, sends, ...outcome };
  }

  private reuse(intent: { runId: Types.ObjectId; sends: number; outcome?: unknown }): ActionOutcome {
    const stored = intent.outcome as Attempt & { durationMs: number };
    return {
      runId: intent.runId.toString(),
      status: stored.status,
      httpStatus: stored.httpStatus ?? null,
      result: stored.result ?? null,
      error: stored.error ?? null,
      problems: stored.problems ?? [],
      durationMs: stored.durationMs ?? 0,
      sends: intent.sends,
      reused: true,
    };
  }

  /** Marks the calls of an ended execution still `sending` as interrupted (no answer came, none will). */
  async closeOpenCalls(executionId: string): Promise<void> {
    await this.models.ActionRun.updateMany(
      { executionId: new Types.ObjectId(executionId), status: 'sending' },
      {
        $set: {
          status: 'interrupted',
          error: 'the execution ended before the connected system answered; whether it acted is unknown',
        },
      },
    );
  }

  /**
   * Marks chat calls (and confirmed calls) still `sending` whose turn is no longer being answered as
   * `interrupted`: the server stopped or the client left while the request was out, so no answer will come
   * unless the turn is retried (which sends it again with the same `Idempotency-Key` and shows `sending` again).
   * `liveTurns` names which of the given answers are still being written. Run by every answer sweep; returns
   * how many calls it marked.
   */
  async closeAbandonedChatCalls(liveTurns: (answerIds: Types.ObjectId[]) => Promise<Set<string>>): Promise<number> {
    const open = await this.models.ActionRun.find(
      { executionId: null, status: 'sending' },
      { _id: 1, sends: 1 },
    ).lean();
    if (open.length === 0) return 0;
    const intents = await this.models.ActionCallIntent.find(
      { runId: { $in: open.map((run) => run._id) } },
      { runId: 1, executionId: 1 },
    ).lean();
    const turnOf = new Map(intents.map((intent) => [intent.runId.toString(), intent.executionId]));
    const live = await liveTurns(
      [...new Set(intents.map((intent) => intent.executionId.toString()))].map((id) => new Types.ObjectId(id)),
    );
    let closed = 0;
    for (const run of open) {
      const turn = turnOf.get(run._id.toString());
      if (turn && live.has(turn.toString())) continue;
      // Only the send seen here: a retry that sent it again meanwhile (more `sends`) is left to finish.
      const result = await this.models.ActionRun.updateOne(
        { _id: run._id, status: 'sending', sends: run.sends },
        { $set: { status: 'interrupted', error: ABANDONED_CHAT_CALL } },
      );
      closed += result.modifiedCount;
    }
    return closed;
  }

  async deleteForChatbot(chatbotId: string): Promise<void> {
    await this.models.ActionCallIntent.deleteMany({ chatbotId: new Types.ObjectId(chatbotId) });
  }

  private runFields(call: Omit<ActionCall, 'user' | 'signal'>) {
    const { action } = call;
    return {
      organizationId: action.organizationId,
      chatbotId: action.chatbotId,
      actionId: action._id,
      source: call.source,
      conversationId: call.conversationId ? new Types.ObjectId(call.conversationId) : null,
      executionId: call.executionId ? new Types.ObjectId(call.executionId) : null,
      arguments: call.args,
    };
  }

  /** One request, and how it went in our own words. */
  private async attempt(call: ActionCall, idempotencyKey: string | null): Promise<Attempt> {
    const { action } = call;
    try {
      const { httpStatus, result } = await this.call(call, idempotencyKey);
      return { status: 'succeeded', httpStatus, result, error: null, problems: [] };
    } catch (error) {
      if (error instanceof CallFailed)
        return {
          status: error.status,
          httpStatus: error.httpStatus,
          result: null,
          error: error.message,
          problems: error.problems,
        };
      const refused = refusalIn(error);
      const timedOut = (error as Error).name === 'TimeoutError';
      if (!refused && !timedOut && !call.signal?.aborted)
        this.logger.warn({ err: error, actionId: action._id }, 'action call failed');
      return {
        status: refused ? 'refused' : 'failed',
        httpStatus: null,
        result: null,
        error: refused
          ? `the address is not allowed (${refused.message})`
          : timedOut
            ? `no answer within ${action.timeoutMs} ms`
            : 'the connected system could not be reached',
        problems: [],
      };
    }
  }

  /**
   * Records that the visitor declined a call (nothing was sent). With a scope and call key (a chat turn's
   * confirmation) the run is recorded once per key however often a confirmation cut by a crash is resumed:
   * the intent's unique (scope, call key) reserves its run id, and the run is inserted by that id.
   */
  async recordDeclined(call: Omit<ActionCall, 'user' | 'signal'>): Promise<string> {
    const { action } = call;
    const fields = {
      ...this.runFields(call),
      status: 'declined',
      durationMs: 0,
      error: 'declined by the visitor',
    } as const;
    const scopeId = call.executionId ?? call.turnId;
    if (!scopeId || !call.callKey) return (await this.models.ActionRun.create(fields))._id.toString();
    const key = { executionId: new Types.ObjectId(scopeId), callKey: call.callKey };
    const reserve = () =>
      this.models.ActionCallIntent.findOneAndUpdate(
        key,
        {
          $setOnInsert: {
            chatbotId: action.chatbotId,
            actionId: action._id,
            runId: new Types.ObjectId(),
            idempotencyKey: idempotencyKeyOf(scopeId, call.callKey!),
            outcome: { status: 'declined', httpStatus: null, result: null, error: fields.error, problems: [] },
          },
        },
        { upsert: true, returnDocument: 'after' },
      );
    let intent;
    try {
      intent = await reserve();
    } catch (error) {
      // Two upserts of one key at once: the other inserted it, so this one now finds it.
      if (!isDuplicateKeyError(error)) throw error;
      intent = await reserve();
    }
    const runId = intent!.runId;
    await this.models.ActionRun.updateOne({ _id: runId }, { $setOnInsert: fields }, { upsert: true });
    return runId.toString();
  }

  private async call(
    call: ActionCall,
    idempotencyKey: string | null,
  ): Promise<{ httpStatus: number; result: unknown }> {
    const { action } = call;
    const request = action.request as ActionRequest;
    const problems = validateArguments(action.parameters as Record<string, unknown>, call.args);
    if (problems.length > 0)
      throw new CallFailed(
        `invalid arguments: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
        'refused',
        null,
        problems,
      );
    if ((action.requiresUser || usesUser(request)) && !call.user)
      throw new CallFailed('this action needs an identified visitor (a verified userToken)', 'refused');
    let rendered;
    try {
      rendered = renderRequest(request, { params: call.args, user: call.user });
    } catch (error) {
      if (error instanceof TemplateValueError) throw new CallFailed(error.message, 'refused');
      throw error;
    }
    const auth = action.authEncrypted
      ? (JSON.parse(this.secrets.open(action.authEncrypted)) as ActionAuth)
      : ({ type: 'none' } as const);
    const timeout = linkSignalWithTimeout(call.signal, action.timeoutMs);
    try {
      return await this.send(rendered, auth, idempotencyKey, action, timeout.signal);
    } finally {
      timeout.release();
    }
  }

  /** The request itself, and its answer read within `signal`'s time. */
  private async send(
    rendered: ReturnType<typeof renderRequest>,
    auth: ActionAuth,
    idempotencyKey: string | null,
    action: ActionCall['action'],
    signal: AbortSignal,
  ): Promise<{ httpStatus: number; result: unknown }> {
    const response = await this.fetch(rendered.url, {
      method: rendered.method,
      headers: idempotencyKey
        ? withHeader({ ...rendered.headers, ...authHeaders(auth) }, 'Idempotency-Key', idempotencyKey)
        : { ...rendered.headers, ...authHeaders(auth) },
      body: rendered.body,
      redirect: 'manual',
      signal,
    });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel().catch(() => undefined);
      throw new CallFailed(
        `the connected system redirected (HTTP ${response.status}); redirects are not followed`,
        'failed',
        response.status,
      );
    }
    const text = await readLimited(response.body, action.maxResponseBytes);
    let data: unknown = text.slice(0, 2_000);
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: the model sees the start of the text.
    }
    if (!response.ok)
      throw new CallFailed(`the connected system answered HTTP ${response.status}`, 'failed', response.status);
    return { httpStatus: response.status, result: selectFields(data, action.responseFields ?? []) };
  }
}
