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
  /** Content words of the question (distinct, processed). */
  terms: number;
  /** Of those, how many the best passage holds neither as such nor as a synonym. */
  missingTerms: number;
  /** Of those, how many the knowledge uses neither as such nor as a synonym: words it has never heard of. */
  strangeTerms: number;
  /** The number of WordNet senses of each question word the passage lacks (0 for names and codes WordNet does not know). */
  missingSenses: number[];
  /** Weight share of the words the best passage lacks that other chunks of the knowledge hold (0..1). */
  elsewhere: number;
}

/** Cosine below which a passage is not close at all, and the span above it that counts as very close (MiniLM-like models). */
const COSINE_FLOOR = 0.4;
const COSINE_SPAN = 0.5;

function closeness(cosine: number): number {
  return Math.min(1, Math.max(0, (cosine - COSINE_FLOOR) / COSINE_SPAN));
}

/** A word with at most this many WordNet senses is a specific one ("cheque" 2, "switzerland" 1; "take" has 44). */
const SPECIFIC_SENSES = 5;

/** How many of the words the passage lacks are specific: at most `senses` WordNet senses. */
function specific(e: AnswerEvidence, senses: number): number {
  return e.missingSenses.filter((count) => count <= senses).length;
}

/** The numbers the confidence model can read from the evidence, by name. */
export const FEATURES = {
  coverage: (e: AnswerEvidence) => e.coverage,
  focus: (e: AnswerEvidence) => e.focus,
  titled: (e: AnswerEvidence) => e.titled,
  missing: (e: AnswerEvidence) => e.missing,
  unknown: (e: AnswerEvidence) => e.unknown,
  margin: (e: AnswerEvidence) => e.margin,
  closeness: (e: AnswerEvidence) => (e.cosine === null ? 0 : closeness(e.cosine)),
  cosineGap: (e: AnswerEvidence) => e.cosineGap ?? 0,
  kindMissing: (e: AnswerEvidence) => (e.kindHeld === 0 ? 1 : 0),
  ranksAgree: (e: AnswerEvidence) => (e.lexicalRank === 1 && e.vectorRank === 1 ? 1 : 0),
  lexicalFirst: (e: AnswerEvidence) => (e.lexicalRank === 1 ? 1 : 0),
  vectorFirst: (e: AnswerEvidence) => (e.vectorRank === 1 ? 1 : 0),
  cosine: (e: AnswerEvidence) => e.cosine ?? 0,
  kindHeld: (e: AnswerEvidence) => (e.kindHeld === 1 ? 1 : 0),
  missingTerms: (e: AnswerEvidence) => e.missingTerms,
  anyMissing: (e: AnswerEvidence) => (e.missingTerms > 0 ? 1 : 0),
  strangeTerms: (e: AnswerEvidence) => e.strangeTerms,
  anyStrange: (e: AnswerEvidence) => (e.strangeTerms > 0 ? 1 : 0),
  elsewhere: (e: AnswerEvidence) => e.elsewhere,
  specificMissing: (e: AnswerEvidence) => specific(e, SPECIFIC_SENSES),
  anySpecificMissing: (e: AnswerEvidence) => Math.min(1, specific(e, SPECIFIC_SENSES)),
  missingShare: (e: AnswerEvidence) => (e.terms > 0 ? e.missingTerms / e.terms : 1),
} satisfies Record<string, (e: AnswerEvidence) => number>;

export type FeatureName = keyof typeof FEATURES;

export interface ConfidenceModel {
  features: FeatureName[];
  /** Intercept first, then one coefficient per feature. */
  coefficients: number[];
}

/**
 * Logistic models fitted on the tune half of `bench/answer-quality.bench.ts` by
 * `bench/answer-quality-fit.ts` (L2 0.3, classes weighed equally; features chosen by greedy forward
 * selection on the out-of-fold AUC of 5-fold cross-validation within the tune half, and the
 * intercept moved so that 0.5 falls where the out-of-fold scores leave the most room to the goals,
 * 90 % of answerable questions kept and 70 % of unanswerable ones below; the held-out half was only
 * scored). With vectors (refitted in issue 20's sixth pass, on a tune half of 155 questions, not
 * 86): the best cosine stands out from the next chunk's (cosineGap), the question is not answered
 * by a title alone (titled: a passage that shares only its title's words with the question is on
 * its topic, not its answer), and the passage lacks few of the question's words (missingShare).
 * Words only (third pass): the share lacked, the number of specific words lacked (a word of few
 * meanings: a thing, a place, a name), the title share, whether the passage holds a value of the
 * kind asked for (kindHeld), and whether BM25 ranked the passage first.
 */
export const CONFIDENCE_MODELS: { vectors: ConfidenceModel; words: ConfidenceModel } = {
  vectors: {
    features: ['cosineGap', 'titled', 'missingShare'],
    coefficients: [0.386, 3.055, -0.697, -1.265],
  },
  words: {
    features: ['missingShare', 'specificMissing', 'titled', 'kindHeld', 'lexicalFirst'],
    coefficients: [0.963, -1.974, -0.314, -0.628, 0.351, 0.295],
  },
};

/** The evidence as a model's inputs, in the order of its coefficients. */
export function featureValues(evidence: AnswerEvidence, features: readonly FeatureName[]): number[] {
  return features.map((name) => FEATURES[name](evidence));
}

/** A logistic model's probability for the evidence. */
export function scoreWith(model: ConfidenceModel, evidence: AnswerEvidence): number {
  const values = featureValues(evidence, model.features);
  const z = values.reduce((sum, value, i) => sum + value * model.coefficients[i + 1]!, model.coefficients[0]!);
  return 1 / (1 + Math.exp(-z));
}

/**
 * A probability-like 0..1 that the best passage answers the question, not merely shares its
 * topic: 0.5 (`ANSWERED_CONFIDENCE`) is where the product starts treating the question as
 * answered. A passage that answers holds the question's rare words (or their synonyms) and a
 * value of the kind asked for, and, with embeddings, is close to the question and closer than
 * any other chunk; one that is only on topic misses the word the question turns on (a name, a
 * number, a qualifier) or the kind of value asked for. See `CONFIDENCE_MODELS` for the weights
 * and bench/README.md for how well it separates the two on the help-centre bench.
 */
export function confidenceOf(evidence: AnswerEvidence): number {
  return scoreWith(evidence.cosine === null ? CONFIDENCE_MODELS.words : CONFIDENCE_MODELS.vectors, evidence);
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
