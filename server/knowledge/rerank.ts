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
  /** Weighted share of the question's content words in the chunk's title and heading alone. */
  titled: number;
  /** Weight share of the heaviest question word the chunk lacks (0 when it holds them all). */
  missing: number;
  /** What the candidates are ordered by. */
  score: number;
}

/** Weights of the final order: the fused ranks, then how much and how closely the passage holds the question. */
const FUSED_WEIGHT = 0.5;
const FOCUS_WEIGHT = 0.3;
const COVERAGE_WEIGHT = 0.2;

/** What a question word counts for when the passage holds only a synonym of it. */
const SYNONYM_CREDIT = 0.7;

type Synonyms = Map<string, Set<string>>;

const NONE = new Set<string>();

/**
 * How much of a question word the union of up to three sets of terms holds: all of it, a synonym's credit, or
 * nothing. The sets are read side by side rather than merged, so measuring a passage allocates no set per window.
 */
function held(term: string, synonyms: Synonyms, a: Set<string>, b: Set<string>, c: Set<string>): number {
  if (a.has(term) || b.has(term) || c.has(term)) return 1;
  for (const synonym of synonyms.get(term) ?? NONE) {
    if (a.has(synonym) || b.has(synonym) || c.has(synonym)) return SYNONYM_CREDIT;
  }
  return 0;
}

function share(
  weights: Map<string, number>,
  total: number,
  synonyms: Synonyms,
  a: Set<string>,
  b: Set<string> = NONE,
  c: Set<string> = NONE,
): number {
  let sum = 0;
  for (const [term, weight] of weights) sum += weight * held(term, synonyms, a, b, c);
  return total > 0 ? sum / total : 0;
}

/** How much of the question a chunk holds: overall, in its best two-sentence window, in its title, and what it lacks most. */
export function measure(
  chunk: IndexedChunk,
  weights: Map<string, number>,
  synonyms: Synonyms = new Map(),
): { coverage: number; focus: number; titled: number; missing: number } {
  const total = [...weights.values()].reduce((sum, weight) => sum + weight, 0);
  if (total === 0) return { coverage: 0, focus: 0, titled: 0, missing: 0 };
  // Only the question's words and their synonyms are ever looked up, so only they are kept of the passage's.
  const asked = new Set<string>();
  for (const term of weights.keys()) {
    asked.add(term);
    for (const synonym of synonyms.get(term) ?? NONE) asked.add(synonym);
  }
  const header = termsOf(`${chunk.title} ${chunk.heading}`, asked);
  const sentences = chunk.text.split(/(?<=[.!?])\s+|\n+/).map((sentence) => termsOf(sentence, asked));
  const all = new Set<string>();
  for (const terms of sentences) for (const term of terms) all.add(term);
  let focus = 0;
  for (let i = 0; i < sentences.length; i += 1) {
    focus = Math.max(focus, share(weights, total, synonyms, sentences[i]!, sentences[i + 1] ?? NONE, header));
  }
  let missing = 0;
  for (const [term, weight] of weights) {
    missing = Math.max(missing, weight * (1 - held(term, synonyms, all, header, NONE)));
  }
  return {
    coverage: share(weights, total, synonyms, all, header),
    focus,
    titled: share(weights, total, synonyms, header),
    missing: missing / total,
  };
}

/**
 * Reorders fused candidates so the passage that holds the question's rare words, close
 * together, comes first: rank fusion alone cannot tell a passage that answers from one that
 * is only on the same topic. Ties keep the fused order.
 */
export function rerank(
  candidates: Array<{ id: string; chunk: IndexedChunk; fused: number }>,
  weights: Map<string, number>,
  synonyms: Synonyms = new Map(),
): RerankedCandidate[] {
  return candidates
    .map((candidate, order) => {
      const measured = measure(candidate.chunk, weights, synonyms);
      const score =
        FUSED_WEIGHT * candidate.fused + FOCUS_WEIGHT * measured.focus + COVERAGE_WEIGHT * measured.coverage;
      return { ...candidate, ...measured, score, order };
    })
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .map(({ order: _order, ...candidate }) => candidate);
}
