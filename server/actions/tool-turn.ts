import { createHash, randomBytes } from 'node:crypto';
import type { EndUser } from '../chat/chat.types.js';
import type { ChatModel, ToolCall, ToolMessage, ToolSpec } from '../llm/model-client.js';
import type { ActionRecord } from './action.model.js';
import type { ActionRunner } from './action-runner.js';

/** One action call of a turn as stored with the answer (never a secret: arguments come from the model). */
export interface StoredToolCall {
  id: string;
  name: string;
  arguments: unknown;
  status: 'succeeded' | 'failed' | 'refused' | 'declined' | 'pending';
  result: unknown;
  error: string | null;
  runId: string | null;
}

/** An action waiting for the visitor's approval. */
export interface PendingAction {
  token: string;
  actionId: string;
  name: string;
  description: string;
  toolCallId: string;
  arguments: Record<string, unknown>;
  /**
   * The tool conversation up to the model's call of this action (the prompt, earlier calls and their results),
   * so the turn continues where it paused once the visitor answers.
   */
  messages: ToolMessage[];
}

/** What a door shows while a turn runs actions: names and statuses only. */
export type ToolTurnEvent =
  | { type: 'action'; phase: 'started'; name: string }
  | { type: 'action'; phase: 'finished'; name: string; status: string; durationMs: number };

export interface ToolTurnResult {
  text: string;
  finishReason: string;
  tokens: { prompt: number; completion: number };
  retries: number;
  toolCalls: StoredToolCall[];
  pending: PendingAction | null;
}

/**
 * Where a turn stands, saved after each model step and each tool result (agent loops keep it with the
 * execution), so a retried run resumes from the last completed step instead of asking the model again.
 */
export interface TurnProgress {
  /** Model calls made so far. */
  step: number;
  /** The tool conversation: the prompt, the model's calls, the results so far. */
  messages: ToolMessage[];
  toolCalls: StoredToolCall[];
  tokens: { prompt: number; completion: number };
  retries: number;
  /** The calls the model asked for in its last step that have no result yet, in order. */
  planned: ToolCall[];
}

export interface ToolTurnInput {
  model: ChatModel;
  /** The prompt, or a paused turn's tool conversation with the answered call's result last. */
  prompt: ToolMessage[];
  actions: ActionRecord[];
  runner: ActionRunner;
  user: EndUser | null;
  conversationId: string | null;
  executionId?: string | null;
  /**
   * A chat turn's answer message: its action calls are then made once per turn (an intent is stored before
   * each is sent, with a stable `Idempotency-Key`), so a retried turn reuses what its failed attempt got.
   */
  turnId?: string | null;
  /** Prefix of this turn's call keys within `turnId` (the follow-up of a confirmed action has its own). */
  turnPart?: string;
  source: 'chat' | 'loop';
  temperature: number;
  maxTokens: number;
  maxSteps: number;
  signal: AbortSignal;
  /** Built-in tools (e.g. knowledge search) answered in process. */
  builtins?: Array<ToolSpec & { run(args: Record<string, unknown>): Promise<unknown> }>;
  /** A saved progress to continue from (a retried agent-loop execution). */
  resume?: TurnProgress | null;
  /** Saves the progress after each model step and each tool result; the turn waits for it. */
  checkpoint?: (progress: TurnProgress) => Promise<void>;
}

export function toolSpecOf(action: ActionRecord): ToolSpec {
  return {
    name: action.name,
    description: action.description,
    parameters: action.parameters as Record<string, unknown>,
  };
}

/** JSON with object keys sorted, so equal arguments give equal text whatever order the model wrote them in. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/**
 * A chat call's key within its turn: the model step, the action and its arguments (and which repeat of them in
 * that step). A retried turn asks the model again, which names its calls anew, so the model's call id cannot be
 * part of it; the same request in the same step of the same turn is the same call.
 */
export function chatCallKey(part: string, step: number, name: string, args: unknown, repeat: number): string {
  const digest = createHash('sha256').update(canonicalJson(args)).digest('hex').slice(0, 24);
  return `${part}:${step}:${name}:${digest}:${repeat}`;
}

function parseArguments(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text || '{}');
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The tool-calling loop of a turn: the model is offered the actions, the server runs the calls it asks for and
 * feeds the results back, until it answers, asks for an action that needs the visitor's approval (the turn
 * pauses), or reaches the step limit.
 */
export async function* runToolTurn(input: ToolTurnInput): AsyncGenerator<ToolTurnEvent, ToolTurnResult> {
  const byName = new Map(input.actions.map((action) => [action.name, action]));
  const builtins = new Map((input.builtins ?? []).map((tool) => [tool.name, tool]));
  const tools = [...input.actions.map(toolSpecOf), ...(input.builtins ?? []).map(({ run: _run, ...spec }) => spec)];
  const progress: TurnProgress = input.resume
    ? (JSON.parse(JSON.stringify(input.resume)) as TurnProgress)
    : {
        step: 0,
        messages: [...input.prompt],
        toolCalls: [],
        tokens: { prompt: 0, completion: 0 },
        retries: 0,
        planned: [],
      };
  const { messages, toolCalls, tokens } = progress;
  for (;;) {
    if (progress.planned.length === 0) {
      if (progress.step >= input.maxSteps) break;
      const completion = await input.model.complete(messages, tools, {
        temperature: input.temperature,
        maxTokens: input.maxTokens,
        signal: input.signal,
      });
      progress.retries += completion.retries;
      tokens.prompt += completion.usage?.prompt ?? 0;
      tokens.completion += completion.usage?.completion ?? 0;
      if (completion.toolCalls.length === 0) {
        return {
          text: completion.content,
          finishReason: completion.finishReason,
          tokens,
          retries: progress.retries,
          toolCalls,
          pending: null,
        };
      }
      progress.step += 1;
      messages.push({ role: 'assistant', content: completion.content || null, toolCalls: [] });
      progress.planned = [...completion.toolCalls];
      await input.checkpoint?.(progress);
    }
    // The model's message of this step: it lists only the calls answered so far, so a turn that pauses leaves
    // the later ones for the model to ask again.
    const asked = messages.findLast((m) => m.role === 'assistant') as Extract<ToolMessage, { toolCalls: ToolCall[] }>;
    const repeats = new Map<string, number>();
    while (progress.planned.length > 0) {
      const call = progress.planned[0]!;
      asked.toolCalls.push(call);
      const args = parseArguments(call.arguments);
      const action = byName.get(call.name);
      const builtin = builtins.get(call.name);
      let stored: StoredToolCall;
      if (!args || (!action && !builtin)) {
        stored = {
          id: call.id,
          name: call.name,
          arguments: args ?? call.arguments,
          status: 'refused',
          result: null,
          error: args ? `there is no tool named ${call.name}` : 'the arguments are not a JSON object',
          runId: null,
        };
      } else if (action?.requiresConfirmation) {
        const pending: PendingAction = {
          token: randomBytes(24).toString('base64url'),
          actionId: action._id.toString(),
          name: action.name,
          description: action.description,
          toolCallId: call.id,
          arguments: args,
          messages,
        };
        toolCalls.push({
          id: call.id,
          name: call.name,
          arguments: args,
          status: 'pending',
          result: null,
          error: null,
          runId: null,
        });
        return {
          text: `Before I go ahead, please confirm: ${action.description}`,
          finishReason: 'requires_action',
          tokens,
          retries: progress.retries,
          toolCalls,
          pending,
        };
      } else if (action) {
        yield { type: 'action', phase: 'started', name: action.name };
        let callKey: string | null = null;
        if (input.executionId) callKey = `${progress.step}:${call.id}`;
        else if (input.turnId) {
          const same = `${action.name}:${canonicalJson(args)}`;
          const repeat = repeats.get(same) ?? 0;
          repeats.set(same, repeat + 1);
          callKey = chatCallKey(input.turnPart ?? 'turn', progress.step, action.name, args, repeat);
        }
        const outcome = await input.runner.run({
          action,
          args,
          user: input.user,
          source: input.source,
          conversationId: input.conversationId,
          executionId: input.executionId ?? null,
          turnId: input.executionId ? null : (input.turnId ?? null),
          callKey,
          signal: input.signal,
        });
        yield {
          type: 'action',
          phase: 'finished',
          name: action.name,
          status: outcome.status,
          durationMs: outcome.durationMs,
        };
        stored = {
          id: call.id,
          name: call.name,
          arguments: args,
          status: outcome.status,
          result: outcome.result,
          error: outcome.error,
          runId: outcome.runId,
        };
      } else {
        yield { type: 'action', phase: 'started', name: call.name };
        const started = performance.now();
        let result: unknown = null;
        let error: string | null = null;
        try {
          result = await builtin!.run(args);
        } catch (cause) {
          error = cause instanceof Error ? cause.message : 'the tool failed';
        }
        const status = error ? 'failed' : 'succeeded';
        yield {
          type: 'action',
          phase: 'finished',
          name: call.name,
          status,
          durationMs: Math.round(performance.now() - started),
        };
        stored = { id: call.id, name: call.name, arguments: args, status, result, error, runId: null };
      }
      // A call cut by the turn's end (a stopping server, a loop's time limit) has no outcome to keep: the turn
      // ends here, before the cut result is saved as if it were the answer.
      input.signal.throwIfAborted();
      toolCalls.push(stored);
      messages.push({
        role: 'tool',
        toolCallId: call.id,
        content: JSON.stringify({ status: stored.status, result: stored.result, error: stored.error }),
      });
      progress.planned.shift();
      await input.checkpoint?.(progress);
    }
  }
  return {
    text: 'I could not finish this within the allowed number of steps.',
    finishReason: 'step_limit',
    tokens,
    retries: progress.retries,
    toolCalls,
    pending: null,
  };
}
