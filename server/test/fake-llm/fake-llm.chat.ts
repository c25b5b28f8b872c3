/**
 * `/v1/chat/completions` for the fake LLM: plain and streamed (SSE) answers
 * in the shapes the `openai` package parses.
 */
import type { ServerResponse } from 'node:http';
import type { JsonObject } from './fake-llm.http.js';
import { isJsonObject, sendError, sendJson, sleep, writeAsync } from './fake-llm.http.js';
import { buildReply, countWords, findMarkers, lastUserText, plainMessages, splitTokens } from './fake-llm.reply.js';

/** Delay between streamed tokens requested by the `#slow` marker. */
const SLOW_TOKEN_DELAY_MS = 150;
/** Content chunks sent before the `#die` marker kills the stream (or `#stall` silences it). */
const DIE_AFTER_CHUNKS = 2;

/** What the chat handler needs from the server's mutable state. */
export interface ChatContext {
  res: ServerResponse;
  /** Aborts when the client disconnects or the server stops. */
  signal: AbortSignal;
  tokenDelayMs: number;
  replyOverride: string | null;
  /** Headers added to injected error responses (e.g. `retry-after-ms`). */
  errorHeaders: Record<string, string>;
  /** Consumes a pending `dieMidStream`; `null` when none is armed. */
  takeDie(): number | null;
  /** Consumes a pending `stallMidStream`; `null` when none is armed. */
  takeStall(): number | null;
  /** Called right before the server deliberately kills the socket. */
  onKill(): void;
}

let idCounter = 0;
/** Last user messages that already died once under the `#dieonce` marker. */
const diedOnce = new Set<string>();

/** Positive integer limit from `max_completion_tokens` / `max_tokens`, if any. */
function tokenLimit(body: JsonObject): number | null {
  const limit = body.max_completion_tokens ?? body.max_tokens;
  return typeof limit === 'number' && Number.isInteger(limit) && limit > 0 ? limit : null;
}

/** Handles one chat completion request whose JSON body is already parsed. */
export async function handleChat(body: unknown, ctx: ChatContext): Promise<void> {
  const { res } = ctx;
  if (!isJsonObject(body)) return sendError(res, 400, 'Request body must be a JSON object.');
  const messages = plainMessages(body.messages);
  if (!messages) return sendError(res, 400, "'messages' must be an array.");
  const markers = findMarkers(messages);
  if (markers.fail500) {
    return sendError(res, 500, 'Injected failure (#fail500 marker).', {
      code: 'injected_failure',
      headers: ctx.errorHeaders,
    });
  }

  const toolCall = body.stream === true ? null : requestedToolCall(body, messages);
  if (toolCall) return sendToolCall(res, body, toolCall, messages);
  const lastMessage = messages[messages.length - 1];
  // After a tool's result, the answer is built from it: "Tool result: {...}".
  const reply =
    Array.isArray(body.tools) && lastMessage?.role === 'tool'
      ? `Tool result: ${lastMessage.text}`
      : buildReply(messages, markers, ctx.replyOverride);
  let tokens = splitTokens(reply);
  const limit = tokenLimit(body);
  const truncated = limit !== null && tokens.length > limit;
  if (truncated) tokens = tokens.slice(0, limit);
  const content = tokens.join('');
  const promptTokens = messages.reduce((sum, m) => sum + countWords(m.text), 0);
  const completionTokens = countWords(content);
  const base = {
    id: `chatcmpl-fake-${++idCounter}`,
    created: Math.floor(Date.now() / 1000),
    model: typeof body.model === 'string' ? body.model : 'fake-chat',
    system_fingerprint: 'fp_fake',
  };
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
  const finishReason = truncated ? 'length' : 'stop';

  if (body.stream !== true) {
    return sendJson(res, 200, {
      ...base,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content, refusal: null },
          logprobs: null,
          finish_reason: finishReason,
        },
      ],
      usage,
    });
  }

  const streamOptions = isJsonObject(body.stream_options) ? body.stream_options : {};
  await streamChat(ctx, {
    base,
    tokens,
    finishReason,
    usage: streamOptions.include_usage === true ? usage : null,
    tokenDelayMs: markers.slow ? SLOW_TOKEN_DELAY_MS : ctx.tokenDelayMs,
    dieAfter: markers.die || (markers.dieOnce && firstTime(lastUserText(messages))) ? DIE_AFTER_CHUNKS : ctx.takeDie(),
    stallAfter: markers.stall ? DIE_AFTER_CHUNKS : ctx.takeStall(),
  });
}

const TOOL_MARKER = /#tool:([A-Za-z0-9_-]+)(\s+(\{.*\}))?/;

/**
 * Deterministic tool calling: when tools are offered and the last user message says `#tool:NAME {json}`,
 * the model calls NAME with that JSON (once: not again after a tool result has come back).
 */
function requestedToolCall(
  body: JsonObject,
  messages: ReturnType<typeof plainMessages> & object,
): { name: string; arguments: string } | null {
  if (!Array.isArray(body.tools) || messages[messages.length - 1]?.role !== 'user') return null;
  const match = TOOL_MARKER.exec(lastUserText(messages));
  if (!match) return null;
  const offered = body.tools.some(
    (tool) => isJsonObject(tool) && isJsonObject(tool.function) && tool.function.name === match[1],
  );
  return offered ? { name: match[1]!, arguments: match[3] ?? '{}' } : null;
}

function sendToolCall(
  res: ServerResponse,
  body: JsonObject,
  call: { name: string; arguments: string },
  messages: ReturnType<typeof plainMessages> & object,
): void {
  const promptTokens = messages.reduce((sum, m) => sum + countWords(m.text), 0);
  sendJson(res, 200, {
    id: `chatcmpl-fake-${++idCounter}`,
    created: Math.floor(Date.now() / 1000),
    model: typeof body.model === 'string' ? body.model : 'fake-chat',
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: [{ id: `call_${idCounter}`, type: 'function', function: call }],
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: promptTokens, completion_tokens: 5, total_tokens: promptTokens + 5 },
  });
}

function firstTime(text: string): boolean {
  if (diedOnce.has(text)) return false;
  diedOnce.add(text);
  return true;
}

interface StreamPlan {
  base: JsonObject;
  tokens: string[];
  finishReason: string;
  usage: JsonObject | null;
  tokenDelayMs: number;
  dieAfter: number | null;
  stallAfter: number | null;
}

/** Writes the SSE stream: role chunk, one chunk per token, finish chunk, usage chunk, `[DONE]`. */
async function streamChat(ctx: ChatContext, plan: StreamPlan): Promise<void> {
  const { res, signal } = ctx;
  // The real API sends `usage: null` on every chunk once include_usage is on.
  const usageField = plan.usage ? { usage: null } : {};
  const chunk = (delta: JsonObject, finishReason: string | null): string =>
    `data: ${JSON.stringify({
      ...plan.base,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...usageField,
    })}\n\n`;

  if (res.destroyed) return;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  // Headers go out now so the client's `create()` resolves before the first token.
  res.flushHeaders();
  if (!(await writeAsync(res, chunk({ role: 'assistant', content: '' }, null)))) return;

  let sent = 0;
  for (const token of plan.tokens) {
    if (plan.dieAfter !== null && sent >= plan.dieAfter) return kill(ctx);
    // Silent until the client gives up (its idle timeout) or the fake stops.
    if (plan.stallAfter !== null && sent >= plan.stallAfter) return void (await sleep(2 ** 31 - 1, signal));
    if (sent > 0 && !(await sleep(plan.tokenDelayMs, signal))) return;
    if (!(await writeAsync(res, chunk({ content: token }, null)))) return;
    sent++;
  }
  // Dying "after N chunks" with a reply of <= N tokens still cuts before the finish chunk.
  if (plan.dieAfter !== null) return kill(ctx);

  if (!(await writeAsync(res, chunk({}, plan.finishReason)))) return;
  if (plan.usage) {
    const usageChunk = { ...plan.base, object: 'chat.completion.chunk', choices: [], usage: plan.usage };
    if (!(await writeAsync(res, `data: ${JSON.stringify(usageChunk)}\n\n`))) return;
  }
  if (!(await writeAsync(res, 'data: [DONE]\n\n'))) return;
  res.end();
}

/** Drops the connection without finishing the chunked body, like a crashed upstream. */
function kill(ctx: ChatContext): void {
  ctx.onKill();
  ctx.res.socket?.destroy();
  ctx.res.destroy();
}
