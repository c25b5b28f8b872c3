import { Types, type Model } from 'mongoose';
import type { ChatbotsService } from '../chatbots/chatbots.service.js';
import type { Config } from '../config.js';
import type { BotModelSettingsLookup, KnowledgeModels } from './knowledge-models.js';
import type { ModelResolver } from '../llm/model-resolver.js';
import type { Logger } from '../logger.js';
import { DEFAULT_CHUNKING, type ChunkOptions } from './chunker.js';
import { addressPolicy } from '../net/address-policy.js';
import { safeFetch } from './fetch/safe-fetch.js';
import { IndexCache } from './index/index-cache.js';
import type { EventPublisher } from '../events/domain-events.js';
import { IngestJobProcessor } from './ingest-job-processor.js';
import { SourceQueue } from './job-queue.js';
import { KnowledgeRetriever } from './knowledge.retriever.js';
import type { RetrievalPreviewDto } from '../../shared/schemas/sources.js';
import { SourcesService } from './sources.service.js';

export interface KnowledgeDeps {
  models: KnowledgeModels;
  config: Config;
  logger: Logger;
  chatbots: ChatbotsService;
  /** Read lazily: the resolver may be wired after the knowledge capability. */
  modelResolver: ModelResolver | null;
  chunking?: ChunkOptions;
  /** Announces `source.ready` and `source.failed`. */
  events: EventPublisher;
  /**
   * True when no other server node uses the database (this process started the embedded engine): every change
   * of the knowledge is then made here, and the bots' knowledge versions are kept instead of read per question.
   */
  soleServer?: boolean;
}

const MAX_REDIRECTS = 5;

/**
 * The knowledge capability, wired once: sources (CRUD), the job worker that
 * processes them, and the retriever the chat engine asks.
 */
export class KnowledgeService {
  readonly sources: SourcesService;
  readonly retriever: KnowledgeRetriever;
  readonly queue: SourceQueue;
  readonly cache: IndexCache;

  constructor(private readonly deps: KnowledgeDeps) {
    const { models, config, logger } = deps;
    const policy = addressPolicy({
      allowPrivate: config.ALLOW_PRIVATE_URLS,
      allowList: config.URL_FETCH_ALLOWED_ADDRESSES,
    });
    const limits = {
      timeoutMs: config.KNOWLEDGE_FETCH_TIMEOUT_MS,
      maxBytes: config.KNOWLEDGE_FETCH_MAX_BYTES,
      maxRedirects: MAX_REDIRECTS,
    };
    this.cache = new IndexCache(models, config.KNOWLEDGE_INDEX_CACHE_BOTS, { soleServer: deps.soleServer });
    const botModelSettings: BotModelSettingsLookup = (chatbotId, organizationId) =>
      deps.chatbots.modelSettingsOf(chatbotId, organizationId);
    const processor = new IngestJobProcessor({
      models,
      botModelSettings,
      cache: this.cache,
      modelResolver: deps.modelResolver,
      fetcher: (url, signal) => safeFetch(url, policy, limits, signal),
      chunking: deps.chunking ?? DEFAULT_CHUNKING,
      fetchConcurrency: config.KNOWLEDGE_FETCH_CONCURRENCY,
      logger,
      events: deps.events,
    });
    this.queue = new SourceQueue(
      models,
      processor,
      {
        concurrency: config.KNOWLEDGE_JOB_CONCURRENCY,
        leaseMs: config.KNOWLEDGE_JOB_LEASE_MS,
        pollMs: config.KNOWLEDGE_JOB_POLL_MS,
        maxAttempts: config.KNOWLEDGE_JOB_MAX_ATTEMPTS,
        backoffMs: config.KNOWLEDGE_JOB_BACKOFF_MS,
      },
      logger,
    );
    this.sources = new SourcesService(models, deps.chatbots, this.queue, this.cache, policy);
    this.retriever = new KnowledgeRetriever({
      botModelSettings,
      cache: this.cache,
      modelResolver: deps.modelResolver,
      logger,
    });
  }

  /** What retrieval finds for a question, with scores: the owner's view of what an answer would be built from. */
  async search(organizationId: string, chatbot: string, query: string, limit: number): Promise<RetrievalPreviewDto> {
    const bot = await this.deps.chatbots.find(organizationId, chatbot);
    const { passages, confidence } = await this.retriever.retrieve(
      { chatbotId: bot._id.toString(), organizationId },
      query,
      { limit },
    );
    return {
      confidence,
      passages: passages.map(({ chunkId, sourceId, title, url, excerpt, text, score }) => ({
        chunkId,
        sourceId,
        title,
        url,
        excerpt,
        text,
        score,
      })),
    };
  }

  /** Removes every source, job, chunk and index version of a deleted bot. */
  async deleteForChatbot(chatbotId: string): Promise<void> {
    const { models } = this.deps;
    const byBot = { chatbotId: new Types.ObjectId(chatbotId) };
    await Promise.all(
      (
        [
          models.KnowledgeJob,
          models.Source,
          models.SourceContent,
          models.Chunk,
          models.KnowledgeVersion,
        ] as Model<unknown>[]
      ).map((model) => model.deleteMany(byBot)),
    );
    this.cache.invalidate(chatbotId);
  }

  /** Starts the worker (after re-queuing sources a crash left without a job). */
  async start(): Promise<void> {
    if (this.deps.config.ALLOW_PRIVATE_URLS && this.deps.config.NODE_ENV === 'production') {
      this.deps.logger.warn('ALLOW_PRIVATE_URLS is on: URL sources may read this server’s private network');
    }
    const recovered = await this.queue.recoverOrphans();
    if (recovered > 0) this.deps.logger.info({ recovered }, 're-queued sources that had lost their job');
    this.queue.start();
  }

  /** Stops the worker; jobs in flight are handed back for the next start (or another node). */
  stop(): Promise<void> {
    return this.queue.stop();
  }
}
