/**
 * Sentence- and window-level evidence about the first passage, tried on the tune half by
 * `answer-quality-fit.ts` (`FIT_SENT=1` lets its search use it; issue 20, fifth pass). The idea:
 * SQuAD-style unanswerable questions are on the topic and use its words, but the passage holds
 * them scattered, not in one sentence with the relation asked about; so the question is measured
 * against the passage's best sentence or window rather than the whole passage. Words are matched
 * as the retriever's coverage matches them (processed and stemmed; a WordNet synonym of a common
 * sense counts 0.7). None of it is in the product: see bench/README.md for what it did.
 */
import MiniSearch from 'minisearch';
import { processTerm, termsOf, type IndexedChunk } from '../server/knowledge/index/bot-index.js';
import { senseCount } from '../server/knowledge/index/synonyms.js';
import { answerKindHeld } from '../server/knowledge/answer-type.js';
import type { AnswerEvidence } from '../server/knowledge/confidence.js';

const tokenize = MiniSearch.getDefault('tokenize') as (text: string) => string[];
/** As in `rerank.ts` and `confidence.ts`. */
const SYNONYM_CREDIT = 0.7;
const SPECIFIC_SENSES = 5;
/** Tokens in a window (`FIT_WINDOW`); the help centre's documents are 15–33 words long. */
const WINDOW = Number(process.env.FIT_WINDOW ?? 25);

export interface SentenceEvidence {
  /** Weighted share of the question's words in the best sentence, title and heading counted in it. */
  sentShare: number;
  /** How many of the question's words that sentence (with title and heading) lacks, and how many of those are specific. */
  sentMissing: number;
  sentSpecific: number;
  /** The same against the best sentence alone, title and heading not counted. */
  bareMissing: number;
  bareSpecific: number;
  /** Words the passage holds but its best sentence (with, then without, title and heading) does not: scattered. */
  scattered: number;
  bareScattered: number;
  /** The same measures for the best window of `WINDOW` tokens (title and heading counted). */
  winShare: number;
  winMissing: number;
  winSpecific: number;
  /** Question words held in the text over the shortest run of tokens holding them all (1 with fewer than two). */
  density: number;
  /** The question asks for a kind of value and the best sentence (with title), sentence alone, window holds one. */
  sentKind: number | null;
  bareKind: number | null;
  winKind: number | null;
}

type Synonyms = Map<string, Set<string>>;

function heldIn(term: string, synonyms: Synonyms, sets: Set<string>[]): number {
  if (sets.some((set) => set.has(term))) return 1;
  for (const synonym of synonyms.get(term) ?? []) if (sets.some((set) => set.has(synonym))) return SYNONYM_CREDIT;
  return 0;
}

/** The candidate holding the largest weighted share of the question (the first on ties), and that share. */
function bestOf<T>(candidates: T[], shareOf: (candidate: T) => number): { best: T | undefined; share: number } {
  let best: T | undefined;
  let share = -1;
  for (const candidate of candidates) {
    const value = shareOf(candidate);
    if (value > share) {
      share = value;
      best = candidate;
    }
  }
  return { best, share: Math.max(0, share) };
}

export function sentenceEvidence(
  question: string,
  chunk: IndexedChunk,
  weights: Map<string, number>,
  synonyms: Synonyms,
): SentenceEvidence {
  const terms = [...weights.keys()];
  const total = [...weights.values()].reduce((sum, weight) => sum + weight, 0);
  const senses = new Map<string, number>();
  for (const token of new Set(question.toLowerCase().split(/[^\p{L}\p{N}]+/u))) {
    const term = processTerm(token);
    if (term && !senses.has(term)) senses.set(term, senseCount(token));
  }
  const specific = (term: string) => (senses.get(term) ?? 0) <= SPECIFIC_SENSES;
  const held = (term: string, ...sets: Set<string>[]) => heldIn(term, synonyms, sets) > 0;
  const shareOf = (...sets: Set<string>[]) =>
    total > 0 ? terms.reduce((sum, term) => sum + weights.get(term)! * heldIn(term, synonyms, sets), 0) / total : 0;
  const lacked = (...sets: Set<string>[]) => terms.filter((term) => !held(term, ...sets));

  const header = termsOf(`${chunk.title} ${chunk.heading}`);
  const texts = chunk.text.split(/(?<=[.!?])\s+|\n+/).filter((text) => text.trim());
  const sentences = texts.map((text, index) => ({ text, index, terms: termsOf(text) }));
  const all = new Set<string>(header);
  for (const sentence of sentences) for (const term of sentence.terms) all.add(term);
  const inText = (term: string) => sentences.some((sentence) => held(term, sentence.terms));
  const none = { text: '', index: -1, terms: new Set<string>() };

  const withHeader = bestOf(sentences, (sentence) => shareOf(sentence.terms, header));
  const sent = withHeader.best ?? none;
  const bare = bestOf(sentences, (sentence) => shareOf(sentence.terms)).best ?? none;
  const sentLacked = lacked(sent.terms, header);
  const bareLacked = lacked(bare.terms);

  const raw = tokenize(chunk.text);
  const tokens = raw.map((token) => processTerm(token));
  const starts = Array.from({ length: Math.max(1, tokens.length - WINDOW + 1) }, (_, start) => start);
  const windows = starts.map((start) => ({
    text: raw.slice(start, start + WINDOW).join(' '),
    terms: new Set(tokens.slice(start, start + WINDOW).filter((term): term is string => term !== null)),
  }));
  const window = bestOf(windows, (candidate) => shareOf(candidate.terms, header));
  const winLacked = lacked(window.best?.terms ?? new Set(), header);

  const inTextTerms = terms.filter(inText);
  let density = 1;
  if (inTextTerms.length >= 2) {
    const matches = (token: string | null, term: string) =>
      token !== null && (token === term || (synonyms.get(term)?.has(token) ?? false));
    let span = Infinity;
    for (let start = 0; start < tokens.length; start += 1) {
      const needed = new Set(inTextTerms);
      for (let end = start; end < tokens.length && needed.size > 0; end += 1) {
        for (const term of needed) if (matches(tokens[end]!, term)) needed.delete(term);
        if (needed.size === 0) span = Math.min(span, end - start + 1);
      }
    }
    density = Number.isFinite(span) ? inTextTerms.length / span : 0;
  }

  return {
    sentShare: withHeader.share,
    sentMissing: sentLacked.length,
    sentSpecific: sentLacked.filter(specific).length,
    bareMissing: bareLacked.length,
    bareSpecific: bareLacked.filter(specific).length,
    scattered: sentLacked.filter((term) => held(term, all)).length,
    bareScattered: bareLacked.filter(inText).length,
    winShare: window.share,
    winMissing: winLacked.length,
    winSpecific: winLacked.filter(specific).length,
    density,
    sentKind: answerKindHeld(question, sent.text),
    bareKind: answerKindHeld(question, bare.text),
    winKind: answerKindHeld(question, window.best?.text ?? ''),
  };
}

const count = (value: number | undefined) => value ?? 0;
const kind = (value: number | null | undefined) => (value === 1 ? 1 : 0);

/** The features the fit can read from it (with the passage-level evidence, for shares); null: no passage. */
export const SENTENCE_FEATURES = {
  sentShare: (s: SentenceEvidence | null) => count(s?.sentShare),
  sentMissShare: (s: SentenceEvidence | null, e: AnswerEvidence) => (s && e.terms ? s.sentMissing / e.terms : 1),
  sentSpecMiss: (s: SentenceEvidence | null) => count(s?.sentSpecific),
  anySentSpecMiss: (s: SentenceEvidence | null) => Math.min(1, count(s?.sentSpecific)),
  bareMissShare: (s: SentenceEvidence | null, e: AnswerEvidence) => (s && e.terms ? s.bareMissing / e.terms : 1),
  bareSpecMiss: (s: SentenceEvidence | null) => count(s?.bareSpecific),
  anyBareSpecMiss: (s: SentenceEvidence | null) => Math.min(1, count(s?.bareSpecific)),
  scattered: (s: SentenceEvidence | null) => count(s?.scattered),
  anyScattered: (s: SentenceEvidence | null) => Math.min(1, count(s?.scattered)),
  bareScattered: (s: SentenceEvidence | null) => count(s?.bareScattered),
  winShare: (s: SentenceEvidence | null) => count(s?.winShare),
  winMissing: (s: SentenceEvidence | null) => count(s?.winMissing),
  winSpecMiss: (s: SentenceEvidence | null) => count(s?.winSpecific),
  density: (s: SentenceEvidence | null) => count(s?.density),
  sentKindHeld: (s: SentenceEvidence | null) => kind(s?.sentKind),
  bareKindHeld: (s: SentenceEvidence | null) => kind(s?.bareKind),
  winKindHeld: (s: SentenceEvidence | null) => kind(s?.winKind),
} satisfies Record<string, (s: SentenceEvidence | null, e: AnswerEvidence) => number>;
