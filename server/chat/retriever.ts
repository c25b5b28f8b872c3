import type { EmbeddingModel } from '../llm/model-client.js';

/** A passage of a bot's knowledge found for a question. */
export interface RetrievedPassage {
  chunkId: string;
  sourceId: string;
  title: string;
  url: string | null;
  /** The chunk's full text, for the prompt. */
  text: string;
  /** A short extract for citations. */
  excerpt: string;
  score: number;
}

export interface Retrieval {
  passages: RetrievedPassage[];
  /**
   * 0..1, probability-like: how likely the first passage answers the question rather than only
   * sharing its topic. Below `ANSWERED_CONFIDENCE` (0.5) the question counts as unanswered.
   */
  confidence: number;
}

/** The bot a retrieval runs for. */
export interface RetrievalTarget {
  chatbotId: string;
  organizationId: string;
}

/** What the chat engine needs from the knowledge base. */
export interface Retriever {
  retrieve(
    target: RetrievalTarget,
    query: string,
    options?: {
      limit?: number;
      signal?: AbortSignal;
      /** The bot's embedding model when the caller already resolved it (null: none); saves a lookup. */
      embeddings?: EmbeddingModel | null;
    },
  ): Promise<Retrieval>;
}
