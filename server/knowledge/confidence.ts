import { termsOf } from './index/bot-index.js';

/**
 * What the product calls "answered": an answer whose confidence is below this goes to the gap
 * log, triggers the `cannot_answer` lead form and `askEmailWhenUnanswered`, and counts as
 * low-confidence in analytics.
 */
export const ANSWERED_CONFIDENCE = 0.5;

/** What retrieval saw about its best passage, the evidence a confidence is computed from. */
export interface AnswerEvidence {
  /** Weighted share of the question's content words that the best passage holds (0..1). */
  coverage: number;
  /** The same share within the passage's best window of two sentences (0..1): an answer is local. */
  focus: number;
  /** Cosine of the best passage to the question; null when the bot has no vectors. */
  cosine: number | null;
  /** How far the best passage leads the second: (first − second) / first of the reranked scores (0..1). */
  margin: number;
  /** The question has content words the lexical index can use (not only codes or single letters). */
  lexical: boolean;
  /** Weighted share of the question's content words in the best passage's title and heading (0..1). */
  titled: number;
  /** Weight share of the heaviest question word the best passage lacks (0..1; 0 when it holds all). */
  missing: number;
  /** Weight share of the question's words the bot's knowledge never uses (0..1). */
  unknown: number;
  /** How far the best cosine leads the second best among all chunks; null without vectors. */
  cosineGap: number | null;
  /** Rank (1-based) of the best passage in the lexical list, and in the vector list (null when absent or no vectors). */
  lexicalRank: number | null;
  vectorRank: number | null;
  /** The question asks for a kind of value (amount, time, count...) and the passage holds one (1), none (0), or no kind (null). */
  kindHeld: number | null;
}

/** Cosine below which a passage is not close at all, and the span above it that counts as very close (MiniLM-like models). */
const COSINE_FLOOR = 0.4;
const COSINE_SPAN = 0.5;

function closeness(cosine: number): number {
  return Math.min(1, Math.max(0, (cosine - COSINE_FLOOR) / COSINE_SPAN));
}

/**
 * A probability-like 0..1 that the best passage answers the question, not merely shares its
 * topic. A passage that answers holds the question's rare words, close together, and stands out
 * from the next passage; one that is only on topic misses the rare word the question turns on
 * (a name, a number, a qualifier), or has the words spread over a long text. With embeddings the
 * vector closeness carries most of the weight, since it forgives rewording; when the question has
 * no word the lexical index can use, it is all there is. The weights were set on the tune half of
 * `bench/answer-quality.bench.ts` (lexical only, and with MiniLM embeddings); whether both rankers
 * agreed did not separate the two kinds of question there, so it is not used.
 */
export function confidenceOf(evidence: AnswerEvidence): number {
  const words = 0.65 * evidence.focus + 0.35 * evidence.coverage;
  const margin = evidence.margin - 0.15;
  if (evidence.cosine === null) return logistic(10 * (words - 0.58) + 2 * margin);
  const vectors = closeness(evidence.cosine);
  const support = evidence.lexical ? 0.4 * words + 0.6 * vectors : vectors;
  return logistic(6 * (support - 0.6) + 2 * margin);
}

function logistic(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** Phrases with which a model says the passages do not hold the answer (the prompt asks it to say so). */
const REFUSAL =
  /\b(?:I (?:do not|don't|cannot|can't|could not|couldn't) (?:know|find|answer|see)|(?:passages|knowledge base|information provided|context) (?:do(?:es)? not|don't|doesn't) (?:contain|mention|say|include|cover)|no information (?:about|on))\b/i;

/** Share of an answer's content words that must be in the passages it cites for it to count as grounded. */
const GROUNDED_SHARE = 0.6;
/** What a grounded answer's confidence is raised to at least. */
const GROUNDED_CONFIDENCE = 0.7;

/**
 * The model's verdict, read from its answer (no extra call): one that says it does not know caps
 * the confidence, since the model read the passages; one that cites passages and whose words
 * mostly come from them is grounded and raises it, since the model found the answer there even
 * when the question was worded unlike the text.
 */
export function withModelVerdict(confidence: number, answer: string, passages: Array<{ text: string }>): number {
  if (REFUSAL.test(answer.slice(0, 400))) return Math.min(confidence, 0.2);
  const cited = [...answer.matchAll(/\[(\d{1,2})\]/g)].map((match) => passages[Number(match[1]) - 1]).filter(Boolean);
  if (cited.length === 0) return confidence;
  const words = termsOf(answer.replace(/\[\d{1,2}\]/g, ' '));
  if (words.size === 0) return confidence;
  const source = termsOf(cited.map((passage) => passage!.text).join(' '));
  const held = [...words].filter((word) => source.has(word)).length;
  return held / words.size >= GROUNDED_SHARE ? Math.max(confidence, GROUNDED_CONFIDENCE) : confidence;
}

/** The evidence as the confidence model's inputs, in the order of its coefficients. */
export function featuresOf(evidence: AnswerEvidence): number[] {
  const all: Record<string, number> = {
    cov: evidence.coverage,
    foc: evidence.focus,
    tit: evidence.titled,
    mis: evidence.missing,
    unk: evidence.unknown,
    mar: evidence.margin,
    clo: evidence.cosine === null ? 0 : closeness(evidence.cosine),
    cos: evidence.cosine ?? 0,
    gap: evidence.cosineGap ?? 0,
    kmiss: evidence.kindHeld === 0 ? 1 : 0,
    khit: evidence.kindHeld === 1 ? 1 : 0,
    lr1: evidence.lexicalRank === 1 ? 1 : 0,
    vr1: evidence.vectorRank === 1 ? 1 : 0,
    full: evidence.coverage >= 0.99 ? 1 : 0,
  };
  return (process.env.FIT_FEATURES ?? 'cov,foc,mis,unk,mar,clo,kmiss').split(',').map((name) => all[name]!);
}
