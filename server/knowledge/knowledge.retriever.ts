import { Types } from 'mongoose';
import type { Retrieval, RetrievalTarget, RetrievedPassage, Retriever } from '../chat/retriever.js';
import type { BotModelSettingsLookup } from './knowledge-models.js';
import type { EmbeddingModel } from '../llm/model-client.js';
import type { ModelResolver } from '../llm/model-resolver.js';
import type { Logger } from '../logger.js';
import { processTerm, termsOf, type BotIndex, type IndexedChunk, type VectorHit } from './index/bot-index.js';
import type { IndexCache } from './index/index-cache.js';
import { answerKindHeld } from './answer-type.js';
import { senseCount } from './index/synonyms.js';
import { confidenceOf, type AnswerEvidence } from './confidence.js';
import { rerank, type RerankedCandidate } from './rerank.js';

/** Reciprocal rank fusion constant: 60 is the value of the original paper and of most engines. */
const RRF_K = 60;
/** Candidates each ranker contributes to the fusion. */
const CANDIDATES = 50;
/** Fused candidates the reranker reads; the answering passage is nearly always among them. */
const RERANK_CANDIDATES = 20;

const EXCERPT_CHARS = 280;
/** Lexical matches scoring below this share of the best one are noise (a single common word). */
const LEXICAL_FLOOR = 0.2;
/** Vector matches below this cosine are not about the question at all. */
const VECTOR_FLOOR = 0.3;
/** Vector matches well behind the best one are near-misses (and, with small models, hash noise). */
const VECTOR_RELATIVE_FLOOR = 0.75;

export interface RetrieverDeps {
  cache: IndexCache;
  /** Asks the chatbots capability for the bot's model settings. */
  botModelSettings: BotModelSettingsLookup;
  modelResolver: ModelResolver | null;
  logger: Logger;
}

/** Where the passage points: its page, with the section's anchor when it has one. */
function passageUrl(chunk: IndexedChunk): string | null {
  if (!chunk.url) return null;
  return chunk.anchor ? `${chunk.url.split('#')[0]}#${chunk.anchor}` : chunk.url;
}

/** The sentences of a chunk that share the most words with the question, up to a short excerpt. */
function excerptFor(text: string, query: string): string {
  const terms = new Set(
    query
      .split(/[^\p{L}\p{N}]+/u)
      .map(processTerm)
      .filter((term): term is string => term !== null),
  );
  const sentences = text.split(/(?<=[.!?])\s+/);
  let best = 0;
  let bestScore = -1;
  sentences.forEach((sentence, index) => {
    const words = sentence.split(/[^\p{L}\p{N}]+/u).map(processTerm);
    const score = words.filter((word) => word !== null && terms.has(word)).length;
    if (score > bestScore) {
      best = index;
      bestScore = score;
    }
  });
  let excerpt = sentences[best] ?? '';
  for (let next = best + 1; next < sentences.length && excerpt.length < EXCERPT_CHARS / 2; next += 1) {
    excerpt += ` ${sentences[next]}`;
  }
  return excerpt.length > EXCERPT_CHARS ? `${excerpt.slice(0, EXCERPT_CHARS - 1).trimEnd()}…` : excerpt;
}

/** Fuses ranked lists by reciprocal rank, scaled so a chunk ranked first by every list scores 1. */
function fuse(lists: string[][]): Array<{ id: string; score: number }> {
  const scores = new Map<string, number>();
  for (const list of lists) {
    list.forEach((id, rank) => scores.set(id, (scores.get(id) ?? 0) + 1 / (RRF_K + rank + 1)));
  }
  const best = lists.length / (RRF_K + 1);
  return [...scores.entries()].map(([id, score]) => ({ id, score: score / best })).sort((a, b) => b.score - a.score);
}

/** What the rankers and the reranker saw about the first passage, the evidence its confidence is computed from. */
function evidenceOf(
  query: string,
  ranked: RerankedCandidate[],
  weights: Map<string, number>,
  index: BotIndex,
  lexicalIds: string[],
  vector: VectorHit[] | null,
  synonyms: Map<string, Set<string>>,
): AnswerEvidence {
  const [best, second] = ranked as [RerankedCandidate, RerankedCandidate | undefined];
  const total = [...weights.values()].reduce((sum, weight) => sum + weight, 0);
  let unknown = 0;
  for (const [term, weight] of weights) if (!index.knows(term)) unknown += weight;
  const lexicalRank = lexicalIds.indexOf(best.id);
  const vectorRank = vector ? vector.findIndex((hit) => hit.id === best.id) : -1;
  // Which question words the passage lacks (a synonym counts as held), and whether the knowledge knows them at all.
  const passage = termsOf(`${best.chunk.title} ${best.chunk.heading} ${best.chunk.text}`);
  let missingTerms = 0;
  let strangeTerms = 0;
  let elsewhere = 0;
  const lacked = new Set<string>();
  for (const [term, weight] of weights) {
    const alike = synonyms.get(term) ?? new Set<string>();
    if (passage.has(term) || [...alike].some((synonym) => passage.has(synonym))) continue;
    lacked.add(term);
    missingTerms += 1;
    if (index.knows(term) || alike.size > 0) elsewhere += weight;
    else strangeTerms += 1;
  }
  // How many meanings each word lacked has: few for a thing, a place, a name; many for phrasing ("take", "work").
  const missingSenses: number[] = [];
  for (const token of new Set(query.toLowerCase().split(/[^\p{L}\p{N}]+/u))) {
    const term = processTerm(token);
    if (term && lacked.delete(term)) missingSenses.push(senseCount(token));
  }
  return {
    coverage: best.coverage,
    focus: best.focus,
    titled: best.titled,
    missing: best.missing,
    unknown: total > 0 ? unknown / total : 0,
    cosine: vector ? (vector[vectorRank]?.score ?? 0) : null,
    cosineGap: vector ? (vector[0]?.score ?? 0) - (vector[1]?.score ?? 0) : null,
    margin: second && best.score > 0 ? Math.max(0, (best.score - second.score) / best.score) : 1,
    lexical: weights.size > 0,
    lexicalRank: lexicalRank >= 0 ? lexicalRank + 1 : null,
    vectorRank: vectorRank >= 0 ? vectorRank + 1 : null,
    kindHeld: answerKindHeld(query, `${best.chunk.title}. ${best.chunk.heading}. ${best.chunk.text}`),
    terms: weights.size,
    missingTerms,
    strangeTerms,
    missingSenses,
    elsewhere: total > 0 ? elsewhere / total : 0,
  };
}

/**
 * The knowledge base's answer to the chat engine: lexical (BM25) and vector
 * retrieval over the bot's ready sources, fused by reciprocal rank.
 */
export class KnowledgeRetriever implements Retriever {
  constructor(private readonly deps: RetrieverDeps) {}

  async retrieve(
    target: RetrievalTarget,
    query: string,
    options: { limit?: number; signal?: AbortSignal; embeddings?: EmbeddingModel | null } = {},
  ): Promise<Retrieval & { evidence?: AnswerEvidence }> {
    const limit = Math.min(Math.max(options.limit ?? 5, 1), 50);
    if (!Types.ObjectId.isValid(target.chatbotId) || !query.trim()) return { passages: [], confidence: 0 };
    // The bot's embedding model is looked up while the index is checked, to save a round trip.
    // Its failure is swallowed only when the lookup ends up unused; otherwise `await` below rethrows it.
    const embeddings =
      options.embeddings !== undefined ? Promise.resolve(options.embeddings) : this.embeddingsOf(target);
    embeddings.catch(() => undefined);
    // When the bot's warm index has vectors, the question is embedded while the index is checked
    // (the provider's round trip overlaps the version read); otherwise only once the index says so.
    const early = this.deps.cache.peek(target.organizationId, target.chatbotId)?.hasVectors()
      ? embeddings.then((model) => this.embed(model, query, options.signal))
      : null;
    early?.catch(() => undefined);
    const index = await this.deps.cache.get(target.organizationId, target.chatbotId);
    if (index.size === 0) return { passages: [], confidence: 0 };
    const synonyms = index.synonyms(query);
    const lexical = index.searchLexical(query, CANDIDATES, synonyms);
    const vector = index.hasVectors()
      ? this.vectorHits(index, await (early ?? embeddings.then((model) => this.embed(model, query, options.signal))))
      : null;
    const bestLexical = lexical[0]?.score ?? 0;
    const lexicalIds = lexical.filter((hit) => hit.score >= bestLexical * LEXICAL_FLOOR).map((hit) => hit.id);
    const vectorFloor = Math.max(VECTOR_FLOOR, (vector?.[0]?.score ?? 0) * VECTOR_RELATIVE_FLOOR);
    const vectorIds = vector?.filter((hit) => hit.score >= vectorFloor).map((hit) => hit.id);
    const fused = fuse(vectorIds ? [lexicalIds, vectorIds] : [lexicalIds]);
    const weights = index.termWeights(query);
    const ranked = rerank(
      fused.slice(0, RERANK_CANDIDATES).flatMap(({ id, score }) => {
        const chunk = index.get(id);
        return chunk ? [{ id, chunk, fused: score }] : [];
      }),
      weights,
      synonyms,
    );
    const passages: RetrievedPassage[] = ranked.slice(0, limit).map(({ chunk, score }) => ({
      chunkId: chunk.id,
      sourceId: chunk.sourceId,
      title: chunk.heading ? `${chunk.title} › ${chunk.heading}` : chunk.title,
      url: passageUrl(chunk),
      text: chunk.text,
      excerpt: excerptFor(chunk.text, query),
      score,
    }));
    if (!ranked[0]) return { passages, confidence: 0 };
    const evidence = evidenceOf(query, ranked, weights, index, lexicalIds, vector, synonyms);
    return { passages, confidence: Number(confidenceOf(evidence).toFixed(4)), evidence };
  }

  private async embeddingsOf(target: RetrievalTarget): Promise<EmbeddingModel | null> {
    const resolver = this.deps.modelResolver;
    if (!resolver) return null;
    const bot = await this.deps.botModelSettings(target.chatbotId, target.organizationId);
    return bot ? (await resolver.forChatbot(bot)).embeddings : null;
  }

  /** The question's embedding, or null when the bot has no embedding model or its provider failed (lexical only then). */
  private async embed(
    embeddings: EmbeddingModel | null,
    query: string,
    signal?: AbortSignal,
  ): Promise<{ vector: Float32Array; model: string } | null> {
    if (!embeddings) return null;
    try {
      const [vector] = await embeddings.embed([query], signal);
      return vector ? { vector, model: embeddings.model } : null;
    } catch (error) {
      if (signal?.aborted) throw error;
      this.deps.logger.warn({ err: error }, 'query embedding failed; lexical retrieval only');
      return null;
    }
  }

  /** Vector matches of the question's embedding, or null without one. */
  private vectorHits(index: BotIndex, query: { vector: Float32Array; model: string } | null): VectorHit[] | null {
    return query ? index.searchVector(query.vector, query.model, CANDIDATES) : null;
  }
}
