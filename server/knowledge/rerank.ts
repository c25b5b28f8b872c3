import { termsOf, type IndexedChunk } from './index/bot-index.js';

/** A fused candidate with what the reranker measured on its text. */
export interface RerankedCandidate {
  id: string;
  chunk: IndexedChunk;
  /** The rank fusion's score (1 = first in every ranker). */
  fused: number;
  /** Weighted share of the question's content words in the chunk, its title and heading included. */
  coverage: number;
  /** The same share within the chunk's best window of two sentences (title and heading count in every window). */
  focus: number;
  /** What the candidates are ordered by. */
  score: number;
}

/** Weights of the final order: the fused ranks, then how much and how closely the passage holds the question. */
const FUSED_WEIGHT = 0.5;
const FOCUS_WEIGHT = 0.3;
const COVERAGE_WEIGHT = 0.2;

function share(weights: Map<string, number>, total: number, terms: Set<string>, also: Set<string>): number {
  let held = 0;
  for (const [term, weight] of weights) if (terms.has(term) || also.has(term)) held += weight;
  return total > 0 ? held / total : 0;
}

/** How much of the question a chunk holds, overall and in its best two-sentence window. */
export function measure(chunk: IndexedChunk, weights: Map<string, number>): { coverage: number; focus: number } {
  const total = [...weights.values()].reduce((sum, weight) => sum + weight, 0);
  if (total === 0) return { coverage: 0, focus: 0 };
  const header = termsOf(`${chunk.title} ${chunk.heading}`);
  const sentences = chunk.text.split(/(?<=[.!?])\s+|\n+/).map(termsOf);
  const all = new Set(sentences.flatMap((terms) => [...terms]));
  let focus = 0;
  for (let i = 0; i < sentences.length; i += 1) {
    const window = new Set([...sentences[i]!, ...(sentences[i + 1] ?? [])]);
    focus = Math.max(focus, share(weights, total, window, header));
  }
  return { coverage: share(weights, total, all, header), focus };
}

/**
 * Reorders fused candidates so the passage that holds the question's rare words, close
 * together, comes first: rank fusion alone cannot tell a passage that answers from one that
 * is only on the same topic. Ties keep the fused order.
 */
export function rerank(
  candidates: Array<{ id: string; chunk: IndexedChunk; fused: number }>,
  weights: Map<string, number>,
): RerankedCandidate[] {
  return candidates
    .map((candidate, order) => {
      const { coverage, focus } = measure(candidate.chunk, weights);
      const score = FUSED_WEIGHT * candidate.fused + FOCUS_WEIGHT * focus + COVERAGE_WEIGHT * coverage;
      return { ...candidate, coverage, focus, score, order };
    })
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .map(({ order: _order, ...candidate }) => candidate);
}
