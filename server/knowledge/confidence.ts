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
  /** Whether both rankers put the best passage near their top; null when only one ranker ran. */
  agreement: boolean | null;
  /** The question has content words the lexical index can use (not only codes or single letters). */
  lexical: boolean;
}

/** Cosines of unrelated texts sit around 0.1–0.2 for most sentence-embedding models; this maps ~0.2→0 and ~0.7→1. */
function closeness(cosine: number): number {
  return Math.min(1, Math.max(0, (cosine - 0.2) / 0.5));
}

/**
 * A probability-like 0..1 that the best passage answers the question, not merely shares its
 * topic. A passage that answers holds the question's rare words, close together, and stands out
 * from the next passage; one that is only on topic misses the rare word the question turns on
 * (a name, a number, a qualifier), or has the words spread over a long text. Vector closeness
 * counts for less than the words, because on-topic passages are close in embedding space whether
 * or not they answer; when the question has no word the lexical index can use, it is all there is.
 * The weights were set on the tune half of `bench/answer-quality.bench.ts`.
 */
export function confidenceOf(evidence: AnswerEvidence): number {
  const words = 0.65 * evidence.focus + 0.35 * evidence.coverage;
  const vectors = evidence.cosine === null ? null : closeness(evidence.cosine);
  const support = !evidence.lexical ? (vectors ?? 0) : vectors === null ? words : 0.75 * words + 0.25 * vectors;
  const agreement = evidence.agreement === null ? 0 : evidence.agreement ? 0.4 : -0.4;
  const z = 10 * (support - 0.58) + 2 * (evidence.margin - 0.15) + agreement;
  return 1 / (1 + Math.exp(-z));
}

/** Phrases with which a model says the passages do not hold the answer (the prompt asks it to say so). */
const REFUSAL =
  /\b(?:I (?:do not|don't|cannot|can't|could not|couldn't) (?:know|find|answer|see)|(?:passages|knowledge base|information provided|context) (?:do(?:es)? not|don't|doesn't) (?:contain|mention|say|include|cover)|no information (?:about|on))\b/i;

/** A model's answer that says it does not know caps the confidence: the model read the passages. */
export function withModelVerdict(confidence: number, answer: string): number {
  return REFUSAL.test(answer.slice(0, 400)) ? Math.min(confidence, 0.2) : confidence;
}
