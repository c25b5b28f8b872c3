import type { Config } from '../config.js';
import type { IntegrationsService } from '../integrations/integrations.service.js';
import type { AddressPolicy } from '../net/address-policy.js';
import { guardedDispatch, guardedFetch } from '../net/guarded-fetch.js';
import type { BotModels, ModelConnection } from './model-client.js';
import { modelFetch } from './model-fetch.js';
import type { BotModelSettings, ModelResolver } from './model-resolver.js';
import { OpenAiChatModel, OpenAiEmbeddingModel, type EndpointSettings } from './openai-models.js';

export interface ModelTuning {
  timeoutMs: number;
  idleTimeoutMs: number;
  maxRetries: number;
  backoffMs: number;
}

export const DEFAULT_MODEL_TUNING: ModelTuning = {
  timeoutMs: 30_000,
  idleTimeoutMs: 30_000,
  maxRetries: 2,
  backoffMs: 300,
};

/** Where the OpenAI client sends requests when no base URL is configured. */
const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host;
  } catch {
    return baseUrl;
  }
}

/**
 * A bot's models: its organization's connection when it names one, else the server
 * default from OPENAI_*. Clients are cached per connection version, so a changed key
 * or URL takes effect on the next message.
 */
export class DefaultModelResolver implements ModelResolver {
  private readonly cache = new Map<string, BotModels>();
  /** Organizations' connections go through the address policy; the operator's default does not. */
  private readonly connectionFetch: typeof fetch;
  private readonly connectionChatFetch: typeof fetch;
  /** Chat completions of the operator's default endpoint, on a keep-alive agent of their own. */
  private readonly defaultChatFetch = modelFetch();

  constructor(
    private readonly config: Config,
    private readonly integrations: IntegrationsService,
    policy: AddressPolicy,
    private readonly tuning: ModelTuning = DEFAULT_MODEL_TUNING,
  ) {
    const guarded = guardedDispatch(policy);
    this.connectionFetch = guardedFetch(policy, guarded);
    this.connectionChatFetch = modelFetch({ dispatcher: guarded.agent, beforeRequest: guarded.checkUrl });
  }

  async forChatbot(bot: BotModelSettings): Promise<BotModels> {
    const integrationId = bot.modelSettings?.integrationId?.toString();
    const modelOverride = bot.modelSettings?.model ?? null;
    if (integrationId) {
      const connection = await this.integrations.secretsOf(bot.organizationId.toString(), integrationId);
      if (connection) {
        const key = `${connection.id}:${connection.updatedAt.getTime()}:${modelOverride ?? ''}`;
        return this.cached(
          key,
          {
            baseURL: connection.baseUrl,
            apiKey: connection.apiKey,
            fetch: this.connectionFetch,
            chatFetch: this.connectionChatFetch,
          },
          modelOverride ?? connection.chatModel,
          connection.embeddingModel,
          () => ({ integrationId: connection.id, provider: hostOf(connection.baseUrl) }),
        );
      }
    }
    const { OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL, OPENAI_EMBEDDING_MODEL } = this.config;
    // A local OpenAI-compatible server (Ollama, vLLM) often needs no key; a base URL alone is enough.
    if (!OPENAI_API_KEY && !OPENAI_BASE_URL) return { chat: null, embeddings: null };
    return this.cached(
      `default:${modelOverride ?? ''}`,
      { baseURL: OPENAI_BASE_URL, apiKey: OPENAI_API_KEY ?? 'not-needed', chatFetch: this.defaultChatFetch },
      modelOverride ?? OPENAI_MODEL ?? null,
      OPENAI_EMBEDDING_MODEL ?? null,
      () => ({ integrationId: null, provider: hostOf(OPENAI_BASE_URL ?? OPENAI_DEFAULT_BASE_URL) }),
    );
  }

  private cached(
    key: string,
    endpoint: Pick<EndpointSettings, 'baseURL' | 'apiKey' | 'fetch' | 'chatFetch'>,
    chatModel: string | null,
    embeddingModel: string | null,
    /** Worked out only when the models are not cached yet (it parses a URL, once a turn otherwise). */
    connection: () => ModelConnection,
  ): BotModels {
    let models = this.cache.get(key);
    if (!models) {
      const settings: EndpointSettings = { ...endpoint, ...this.tuning };
      models = {
        chat: chatModel ? new OpenAiChatModel(chatModel, settings) : null,
        embeddings: embeddingModel ? new OpenAiEmbeddingModel(embeddingModel, settings) : null,
        connection: connection(),
      };
      if (this.cache.size > 500) this.cache.clear();
      this.cache.set(key, models);
    }
    return models;
  }
}
