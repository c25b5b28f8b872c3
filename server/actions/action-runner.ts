import { Types } from 'mongoose';
import type { ActionAuth, ActionRequest, ActionRunSource } from '../../shared/schemas/actions.js';
import type { EndUser } from '../chat/chat.types.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Logger } from '../logger.js';
import { refusalIn } from '../net/guarded-fetch.js';
import type { ActionRecord, ActionRunModel } from './action.model.js';
import { renderRequest, TemplateValueError, usesUser } from './action-template.js';
import { validateArguments, type SchemaProblem } from './parameter-schema.js';

/** One call of an action, from whichever caller. */
export interface ActionCall {
  action: ActionRecord;
  args: Record<string, unknown>;
  user: EndUser | null;
  source: ActionRunSource;
  conversationId?: string | null;
  executionId?: string | null;
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
    private readonly models: { ActionRun: ActionRunModel },
    private readonly secrets: SecretBox,
    private readonly fetch: typeof globalThis.fetch,
    private readonly logger: Logger,
  ) {}

  async run(call: ActionCall): Promise<ActionOutcome> {
    const started = performance.now();
    const { action } = call;
    let outcome: Omit<ActionOutcome, 'runId' | 'durationMs'>;
    try {
      const { httpStatus, result } = await this.call(call);
      outcome = { status: 'succeeded', httpStatus, result, error: null, problems: [] };
    } catch (error) {
      if (error instanceof CallFailed) {
        outcome = {
          status: error.status,
          httpStatus: error.httpStatus,
          result: null,
          error: error.message,
          problems: error.problems,
        };
      } else {
        const refused = refusalIn(error);
        const timedOut = (error as Error).name === 'TimeoutError';
        if (!refused && !timedOut) this.logger.warn({ err: error, actionId: action._id }, 'action call failed');
        outcome = {
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
    const durationMs = Math.round(performance.now() - started);
    const run = await this.models.ActionRun.create({
      organizationId: action.organizationId,
      chatbotId: action.chatbotId,
      actionId: action._id,
      source: call.source,
      status: outcome.status,
      httpStatus: outcome.httpStatus,
      durationMs,
      error: outcome.error,
      conversationId: call.conversationId ? new Types.ObjectId(call.conversationId) : null,
      executionId: call.executionId ? new Types.ObjectId(call.executionId) : null,
      arguments: call.args,
      result: outcome.result,
    });
    return { runId: run._id.toString(), durationMs, ...outcome };
  }

  /** Records that the visitor declined a call (nothing was sent). */
  async recordDeclined(call: Omit<ActionCall, 'user' | 'signal'>): Promise<string> {
    const { action } = call;
    const run = await this.models.ActionRun.create({
      organizationId: action.organizationId,
      chatbotId: action.chatbotId,
      actionId: action._id,
      source: call.source,
      status: 'declined',
      durationMs: 0,
      error: 'declined by the visitor',
      conversationId: call.conversationId ? new Types.ObjectId(call.conversationId) : null,
      arguments: call.args,
    });
    return run._id.toString();
  }

  private async call(call: ActionCall): Promise<{ httpStatus: number; result: unknown }> {
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
    const timeout = AbortSignal.timeout(action.timeoutMs);
    const response = await this.fetch(rendered.url, {
      method: rendered.method,
      headers: { ...rendered.headers, ...authHeaders(auth) },
      body: rendered.body,
      redirect: 'manual',
      signal: call.signal ? AbortSignal.any([call.signal, timeout]) : timeout,
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
