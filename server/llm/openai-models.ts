import OpenAI from 'openai';
import { linkSignal } from '../lib/linked-signal.js';
import { refusalIn } from '../net/guarded-fetch.js';
import type {
  ChatCompletionOptions,
  ChatModel,
  CompletionPart,
  EmbeddingModel,
  PromptMessage,
  ToolCompletion,
  ToolMessage,
  ToolSpec,
} from './model-client.js';
import { ModelUnavailableError } from './model-client.js';

/** How the server talks to one OpenAI-compatible endpoint. */
export interface EndpointSettings {
  baseURL?: string;
  apiKey: string;
  /** Per-attempt timeout until the response starts. */
  timeoutMs?: number;
  /** Longest silence allowed between streamed tokens. */
  idleTimeoutMs?: number;
  maxRetries?: number;
  /** Base of the exponential backoff between retries. */
  backoffMs?: number;
  /** The fetch to call the endpoint with (organizations' connections get the address-checked one). */
  fetch?: typeof fetch;
  /** The fetch of chat completions, when not `fetch` (see `modelFetch`). */
  chatFetch?: typeof fetch;
}

const RETRYABLE = new Set([408, 409, 429, 500, 502, 503, 504]);

function isRetryable(error: unknown): boolean {
  if (error instanceof OpenAI.APIUserAbortError) return false;
  if (error instanceof OpenAI.APIConnectionError) return true;
  if (error instanceof OpenAI.APIError) return error.status === undefined || RETRYABLE.has(error.status);
  return false;
}

function describe(error: unknown): string {
  if (error instanceof OpenAI.APIError && error.status) return `the model provider answered ${error.status}`;
  if (error instanceof OpenAI.APIConnectionTimeoutError) return 'the model provider timed out';
  if (error instanceof OpenAI.APIConnectionError) return 'the model provider could not be reached';
  return 'the model provider failed';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    // The listener goes when the timer fires, so long-lived signals do not collect one per retry.
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Shared retry policy: bounded attempts, exponential backoff with jitter, only for transient failures. */
async function withRetries<T>(
  settings: EndpointSettings,
  signal: AbortSignal,
  attempt: () => Promise<T>,
): Promise<{ value: T; retries: number }> {
  const maxRetries = settings.maxRetries ?? 2;
  for (let retries = 0; ; retries += 1) {
    try {
      return { value: await attempt(), retries };
    } catch (error) {
      if (signal.aborted) throw error;
      const refusal = refusalIn(error);
      if (refusal) {
        throw new ModelUnavailableError(`the model connection's address is refused (${refusal.message})`, {
          retries,
          refused: true,
          cause: error,
        });
      }
      if (retries >= maxRetries || !isRetryable(error)) {
        throw new ModelUnavailableError(`${describe(error)} after ${retries + 1} attempt(s)`, {
          retries,
          cause: error,
        });
      }
      const base = (settings.backoffMs ?? 300) * 2 ** retries;
      await sleep(base / 2 + Math.random() * base, signal);
    }
  }
}

function clientFor(settings: EndpointSettings, fetch = settings.fetch): OpenAI {
  return new OpenAI({
    apiKey: settings.apiKey,
    baseURL: settings.baseURL,
    timeout: settings.timeoutMs ?? 30_000,
    ...(fetch ? { fetch } : {}),
    // Retries are ours, so they can be counted and bounded the same way for every call.
    maxRetries: 0,
  });
}

/** A chat model on an OpenAI-compatible endpoint, streamed, with retries before the first token. */
export class OpenAiChatModel implements ChatModel {
  private readonly client: OpenAI;

  constructor(
    readonly model: string,
    private readonly settings: EndpointSettings,
  ) {
    this.client = clientFor(settings, settings.chatFetch ?? settings.fetch);
  }

  async *stream(messages: PromptMessage[], options: ChatCompletionOptions): AsyncIterable<CompletionPart> {
    const { value: stream, retries } = await withRetries(this.settings, options.signal, () =>
      this.client.chat.completions.create(
        {
          model: this.model,
          messages,
          temperature: options.temperature,
          max_tokens: options.maxTokens,
          stream: true,
          stream_options: { include_usage: true },
        },
        { signal: options.signal },
      ),
    );
    let finishReason = 'stop';
    let usage: { prompt: number; completion: number } | null = null;
    let streamed = false;
    const idle = new IdleWatch(this.settings.idleTimeoutMs ?? 30_000, () => stream.controller.abort());
    try {
      for await (const chunk of stream) {
        idle.touch();
        const choice = chunk.choices[0];
        const text = choice?.delta?.content;
        if (text) {
          streamed = true;
          yield { type: 'delta', text };
        }
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        if (chunk.usage) usage = { prompt: chunk.usage.prompt_tokens, completion: chunk.usage.completion_tokens };
      }
    } catch (error) {
      if (options.signal.aborted) throw error;
      throw new ModelUnavailableError(
        idle.fired ? 'the model provider stopped sending' : 'the model provider failed mid-answer',
        {
          retries,
          partial: streamed,
          cause: error,
        },
      );
    } finally {
      idle.stop();
    }
    if (idle.fired)
      throw new ModelUnavailableError('the model provider stopped sending', { retries, partial: streamed });
    // An aborted stream ends quietly in the openai package; make sure callers see the cancellation.
    if (options.signal.aborted) throw options.signal.reason;
    yield { type: 'finish', finishReason, usage, retries };
  }

  complete(messages: ToolMessage[], tools: ToolSpec[], options: ChatCompletionOptions): Promise<ToolCompletion> {
    return completeWithTools(this.client, this.model, this.settings, messages, tools, options);
  }
}

function toOpenAiMessage(message: ToolMessage): OpenAI.ChatCompletionMessageParam {
  if (message.role === 'tool') return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
  if ('toolCalls' in message) {
    return {
      role: 'assistant',
      content: message.content,
      tool_calls: message.toolCalls.map((call) => ({
        id: call.id,
        type: 'function' as const,
        function: { name: call.name, arguments: call.arguments },
      })),
    };
  }
  return message;
}

/** A whole completion offered tools, with the same retries as a streamed one. */
async function completeWithTools(
  client: OpenAI,
  model: string,
  settings: EndpointSettings,
  messages: ToolMessage[],
  tools: ToolSpec[],
  options: ChatCompletionOptions,
): Promise<ToolCompletion> {
  const { value, retries } = await withRetries(settings, options.signal, () =>
    client.chat.completions.create(
      {
        model,
        messages: messages.map(toOpenAiMessage),
        temperature: options.temperature,
        max_tokens: options.maxTokens,
        ...(tools.length > 0 ? { tools: tools.map((tool) => ({ type: 'function' as const, function: tool })) } : {}),
      },
      { signal: options.signal },
    ),
  );
  const choice = value.choices[0];
  const toolCalls = (choice?.message.tool_calls ?? []).flatMap((call) =>
    call.type === 'function' ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments }] : [],
  );
  return {
    content: choice?.message.content ?? '',
    toolCalls,
    finishReason: choice?.finish_reason ?? 'stop',
    usage: value.usage ? { prompt: value.usage.prompt_tokens, completion: value.usage.completion_tokens } : null,
    retries,
  };
}

/** An embedding model on an OpenAI-compatible endpoint; vectors come back unit-length. */
export class OpenAiEmbeddingModel implements EmbeddingModel {
  private readonly client: OpenAI;

  constructor(
    readonly model: string,
    private readonly settings: EndpointSettings,
  ) {
    this.client = clientFor(settings);
  }

  async embed(texts: string[], outer?: AbortSignal): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    // Callers pass long-lived signals (a worker's); the client gets a per-call one so no listener outlives the call.
    const { signal, release } = linkSignal(outer);
    const { value } = await withRetries(this.settings, signal, () =>
      this.client.embeddings.create({ model: this.model, input: texts }, { signal }),
    ).finally(release);
    return [...value.data]
      .sort((a, b) => a.index - b.index)
      .map((item) => normalize(Float32Array.from(item.embedding)));
  }
}

function normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const x of vector) sum += x * x;
  const norm = Math.sqrt(sum) || 1;
  for (let i = 0; i < vector.length; i += 1) vector[i] = vector[i]! / norm;
  return vector;
}

/**
 * Aborts a stream that goes silent for too long. A chunk only notes the time: re-arming a timer for each of an
 * answer's chunks was most of this watch's cost. The one timer, when it fires, waits out what is left of the
 * silence since the last chunk, so a stream is still aborted `ms` after its last chunk.
 */
class IdleWatch {
  fired = false;
  private lastAt = performance.now();
  private timer: NodeJS.Timeout;

  constructor(
    private readonly ms: number,
    private readonly onIdle: () => void,
  ) {
    this.timer = setTimeout(this.check, ms);
  }

  touch(): void {
    this.lastAt = performance.now();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private readonly check = (): void => {
    const left = this.lastAt + this.ms - performance.now();
    if (left > 0) {
      this.timer = setTimeout(this.check, left);
      return;
    }
    this.fired = true;
    this.onIdle();
  };
}
