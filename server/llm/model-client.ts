/** One message of a chat prompt, in the OpenAI chat format. */
export interface PromptMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A piece of a streamed completion. */
export type CompletionPart =
  | { type: 'delta'; text: string }
  | {
      type: 'finish';
      finishReason: string;
      usage: { prompt: number; completion: number } | null;
      /** Attempts that failed (429/5xx/network) before this one succeeded. */
      retries: number;
    };

export interface ChatCompletionOptions {
  temperature: number;
  maxTokens: number;
  signal: AbortSignal;
}

/** A function the model may call (an action, a built-in), in the OpenAI tools format. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** One call the model asked for; `arguments` is the model's JSON text, parsed by the caller. */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A message of a tool-calling conversation: the prompt's, the model's tool calls, and the tools' results. */
export type ToolMessage =
  | PromptMessage
  | { role: 'assistant'; content: string | null; toolCalls: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

/** One whole (unstreamed) completion that may call tools. */
export interface ToolCompletion {
  content: string;
  toolCalls: ToolCall[];
  finishReason: string;
  usage: { prompt: number; completion: number } | null;
  retries: number;
}

/** A chat model behind any OpenAI-compatible endpoint. */
export interface ChatModel {
  readonly model: string;
  /** Streams the completion; throws a `ModelUnavailableError` when the provider fails for good. */
  stream(messages: PromptMessage[], options: ChatCompletionOptions): AsyncIterable<CompletionPart>;
  /** One completion offered `tools`; throws a `ModelUnavailableError` when the provider fails for good. */
  complete(messages: ToolMessage[], tools: ToolSpec[], options: ChatCompletionOptions): Promise<ToolCompletion>;
}

/** An embedding model behind any OpenAI-compatible endpoint. */
export interface EmbeddingModel {
  readonly model: string;
  /** One unit-length vector per text, in order. */
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

/** Which connection the models go through, to name it when it fails. */
export interface ModelConnection {
  /** The organization's model connection, or null for the server's default. */
  integrationId: string | null;
  /** The host of the connection's base URL. */
  provider: string;
}

/** The models a bot talks to; either may be absent (no model configured). */
export interface BotModels {
  chat: ChatModel | null;
  embeddings: EmbeddingModel | null;
  /** Set whenever a model is. */
  connection?: ModelConnection;
}

/** The provider failed for good (after retries) or timed out. */
export class ModelUnavailableError extends Error {
  override name = 'ModelUnavailableError';
  /** Attempts made before giving up, beyond the first. */
  readonly retries: number;
  /** How much of the answer had streamed before the provider failed. */
  readonly partial: boolean;
  /** The provider's address is refused by the server's address policy: retrying will not help. */
  readonly refused: boolean;

  constructor(
    message: string,
    options: { retries?: number; partial?: boolean; refused?: boolean; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.retries = options.retries ?? 0;
    this.partial = options.partial ?? false;
    this.refused = options.refused ?? false;
  }
}
