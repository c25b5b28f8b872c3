/**
 * Fits the confidence model of `server/knowledge/confidence.ts` on the tune half of the
 * answer-quality bench, in process (no server): the help centre's documents go into a bot index,
 * each question goes through the real retriever, and the evidence it saw about its first passage
 * is kept with whether the question is answerable. A logistic regression (L2, gradient descent) is
 * fitted on the tune half only and scored on both halves; the coefficients it prints are the ones
 * to check into `confidence.ts`. Same data, split and `BENCH_SET` as `answer-quality.bench.ts`.
 * Run: npx tsx bench/answer-quality-fit.ts   (EMBEDDINGS_URL as for the bench; FIT_FEATURES=a,b and FIT_L2=x
 * try other models; BENCH_DUMP=1 lists every question with its evidence; FIT_EXTRA=1, with EMBEDDINGS_URL, also
 * measures the bench-only features of `EXTRA_FEATURES` below, which FIT_FEATURES and FIT_SEARCH can then use;
 * FIT_SENT=1 lets FIT_SEARCH use the sentence- and window-level features of `sentence-evidence.ts`, which FIT_FEATURES
 * can always name; FIT_UNI=1 prints each feature's AUC alone and added to the model, on the tune half)
 */
import { createHash } from 'node:crypto';
import { BotIndex, processTerm, termsOf, type IndexedChunk } from '../server/knowledge/index/bot-index.js';
import type { IndexCache } from '../server/knowledge/index/index-cache.js';
import { KnowledgeRetriever } from '../server/knowledge/knowledge.retriever.js';
import {
  CONFIDENCE_MODELS,
  confidenceOf,
  featureValues,
  FEATURES,
  type AnswerEvidence,
  type FeatureName,
} from '../server/knowledge/confidence.js';
import { SUPPORT_CORPUS } from '../server/knowledge/test/support-corpus.js';
import type { EmbeddingModel } from '../server/llm/model-client.js';
import type { Logger } from '../server/logger.js';
import { helpCentreQuestions, helpCentreSet } from './help-centre-questions.js';
import { SENTENCE_FEATURES, sentenceEvidence, type SentenceEvidence } from './sentence-evidence.js';

interface Row {
  text: string;
  answerable: boolean;
  split: 'tune' | 'held-out';
  rank: number | null;
  evidence: AnswerEvidence;
  /** What the bench-only features are computed from (FIT_EXTRA=1). */
  extra: { windowCosine?: number; dropLift?: number };
  /** Sentence- and window-level evidence about the first passage (FIT_SENT=1 lets the search use it). */
  sent: SentenceEvidence | null;
}

/** Bench-only features read from the first passage's best sentence or window (see `sentence-evidence.ts`). */
const SENTENCE_ROW_FEATURES = Object.fromEntries(
  Object.entries(SENTENCE_FEATURES).map(([name, feature]) => [name, (row: Row) => feature(row.sent, row.evidence)]),
) as Record<keyof typeof SENTENCE_FEATURES, (row: Row) => number>;

/**
 * Features tried on the tune half that the product does not compute (issue 20, fourth pass: no
 * registry package ships a cross-encoder's weights, so the bi-encoder was asked to stand in for one).
 * Each costs the product one more embedding call per question. Neither is in `confidence.ts`: see
 * bench/README.md for what they did.
 */
const EXTRA_FEATURES = {
  /** Best cosine of the question to a window of two sentences of the first passage (title prepended). */
  windowCosine: (row: Row) => row.extra.windowCosine ?? 0,
  /** How far that window leads the whole passage's cosine. */
  windowLead: (row: Row) => (row.extra.windowCosine ?? 0) - (row.evidence.cosine ?? 0),
  /**
   * Cosine of the passage to the question without the words the passage lacks, less its cosine to
   * the whole question: positive when those words pull the question away from the passage (it is on
   * the topic, not the answer), negative when the passage means them in other words.
   */
  dropLift: (row: Row) => row.extra.dropLift ?? 0,
  dropLiftPos: (row: Row) => Math.max(0, row.extra.dropLift ?? 0),
  ...SENTENCE_ROW_FEATURES,
} satisfies Record<string, (row: Row) => number>;

type ExtraFeature = keyof typeof EXTRA_FEATURES;
type AnyFeature = FeatureName | ExtraFeature;

/** A row's inputs to a model, in the order of its features. */
function valuesOf(row: Row, names: readonly AnyFeature[]): number[] {
  return names.map((name) =>
    name in EXTRA_FEATURES
      ? EXTRA_FEATURES[name as ExtraFeature](row)
      : featureValues(row.evidence, [name as FeatureName])[0]!,
  );
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, v, i) => sum + v * b[i]!, 0);

/** The bench-only features of one question, from the bi-encoder (see `EXTRA_FEATURES`). */
async function extraOf(
  embeddings: EmbeddingModel,
  index: BotIndex,
  question: string,
  chunk: IndexedChunk,
  vector: Float32Array,
): Promise<Row['extra']> {
  const sentences = chunk.text.split(/(?<=[.!?])\s+|\n+/).filter((t) => t.trim());
  const windows = sentences.map((t, i) => `${chunk.title}\n${t} ${sentences[i + 1] ?? ''}`.trim());
  // The question without the words the passage lacks (a synonym counts as held, as in the evidence).
  const passage = termsOf(`${chunk.title} ${chunk.heading} ${chunk.text}`);
  const synonyms = index.synonyms(question);
  const stripped = question
    .split(/([^\p{L}\p{N}]+)/u)
    .filter((token) => {
      const term = processTerm(token);
      return (
        !term ||
        !/[\p{L}\p{N}]/u.test(token) ||
        passage.has(term) ||
        [...(synonyms.get(term) ?? [])].some((s) => passage.has(s))
      );
    })
    .join('')
    .trim();
  const changed = stripped !== '' && stripped !== question.trim();
  const [q, ...rest] = await embeddings.embed([question, ...windows, ...(changed ? [stripped] : [])]);
  const ws = rest.slice(0, windows.length);
  return {
    windowCosine: ws.length ? Math.max(...ws.map((w) => dot(q!, w))) : 0,
    dropLift: changed ? dot(rest.at(-1)!, vector) - dot(q!, vector) : 0,
  };
}

const splitOf = (key: string): Row['split'] =>
  createHash('sha1').update(key).digest()[0]! % 2 === 0 ? 'tune' : 'held-out';

function openAiEmbeddings(url: string, model: string): EmbeddingModel {
  return {
    model,
    async embed(texts) {
      const res = await fetch(`${url}/embeddings`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, input: texts }),
      });
      const body = (await res.json()) as { data: Array<{ embedding: number[] }> };
      return body.data.map((item) => Float32Array.from(item.embedding));
    },
  };
}

async function rows(embeddings: EmbeddingModel | null): Promise<Row[]> {
  const index = new BotIndex(1);
  const vectors = embeddings
    ? await embeddings.embed(SUPPORT_CORPUS.map((doc) => `${doc.title}\n${doc.content}`))
    : null;
  SUPPORT_CORPUS.forEach((doc, i) => {
    const chunk: IndexedChunk = {
      id: `c${i}`,
      sourceId: `s${i}`,
      title: doc.title,
      heading: '',
      url: null,
      anchor: null,
      text: doc.content,
      position: 0,
      vector: vectors?.[i] ?? null,
      vectorModel: embeddings?.model ?? null,
    };
    index.addChunk(chunk);
  });
  const silent = { warn() {}, info() {}, error() {}, debug() {} } as unknown as Logger;
  const retriever = new KnowledgeRetriever({
    cache: { get: async () => index, peek: () => index } as unknown as IndexCache,
    botModelSettings: async () => null,
    modelResolver: null,
    logger: silent,
  });
  const questions = helpCentreQuestions(helpCentreSet());
  const out: Row[] = [];
  for (const question of questions) {
    const target = { chatbotId: '0123456789abcdef01234567', organizationId: 'o' };
    const result = await retriever.retrieve(target, question.text, { embeddings });
    const sources = [...new Set(result.passages.map((p) => p.sourceId))];
    const at = question.answer === null ? -1 : sources.indexOf(`s${question.answer}`);
    const first = result.passages[0] ? index.get(result.passages[0].chunkId) : undefined;
    const extra =
      process.env.FIT_EXTRA && embeddings && vectors && first
        ? await extraOf(embeddings, index, question.text, first, vectors[Number(first.id.slice(1))]!)
        : {};
    out.push({
      text: question.text,
      answerable: question.answer !== null,
      split: splitOf(question.text),
      rank: at >= 0 ? at + 1 : null,
      extra,
      sent: first
        ? sentenceEvidence(question.text, first, index.termWeights(question.text), index.synonyms(question.text))
        : null,
      // No passage at all: nothing to be confident about.
      evidence: result.evidence ?? {
        coverage: 0,
        focus: 0,
        titled: 0,
        missing: 1,
        unknown: 1,
        cosine: embeddings ? 0 : null,
        cosineGap: embeddings ? 0 : null,
        margin: 0,
        lexical: false,
        lexicalRank: null,
        vectorRank: null,
        kindHeld: null,
        terms: 0,
        missingTerms: 0,
        strangeTerms: 0,
        missingSenses: [],
        elsewhere: 0,
      },
    });
  }
  return out;
}

/**
 * Logistic regression with an L2 penalty (not on the intercept), by gradient descent on
 * standardised features, each class weighing as much as the other in total (so the intercept
 * does not follow the share of answerable questions in the sample); the coefficients returned are
 * for the raw features, intercept first.
 */
function fit(x: number[][], y: number[], l2: number): number[] {
  const dims = x[0]!.length;
  const mean = Array.from({ length: dims }, (_, j) => x.reduce((s, row) => s + row[j]!, 0) / x.length);
  const sd = Array.from({ length: dims }, (_, j) =>
    Math.max(1e-6, Math.sqrt(x.reduce((s, row) => s + (row[j]! - mean[j]!) ** 2, 0) / x.length)),
  );
  const z = x.map((row) => row.map((v, j) => (v - mean[j]!) / sd[j]!));
  const positives = y.filter((v) => v === 1).length;
  const weightOf = (label: number) => y.length / (2 * Math.max(1, label === 1 ? positives : y.length - positives));
  const w = new Array<number>(dims + 1).fill(0);
  for (let step = 0; step < 2000; step += 1) {
    const grad = new Array<number>(w.length).fill(0);
    z.forEach((row, i) => {
      const err =
        (1 / (1 + Math.exp(-(w[0]! + row.reduce((sum, v, j) => sum + v * w[j + 1]!, 0)))) - y[i]!) * weightOf(y[i]!);
      grad[0]! += err;
      row.forEach((v, j) => (grad[j + 1]! += err * v));
    });
    for (let j = 0; j < w.length; j += 1) w[j]! -= 0.5 * (grad[j]! / z.length + (j > 0 ? l2 * w[j]! : 0));
  }
  const raw = w.slice(1).map((v, j) => v / sd[j]!);
  return [w[0]! - raw.reduce((sum, v, j) => sum + v * mean[j]!, 0), ...raw];
}

const logit = (w: number[], f: number[]) => w[0]! + f.reduce((s, v, j) => s + v * w[j + 1]!, 0);
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Stratified k folds of rows, by a hash of the text and a seed (so each repeat cuts differently). */
function foldOf(text: string, seed: number, k: number): number {
  return createHash('sha1').update(`${seed}:${text}`).digest().readUInt32BE(0) % k;
}

/**
 * Out-of-fold logits: `repeats` times k-fold over the rows (fitted on k−1 folds, scored on the
 * last), averaged per row. What a fit would say of questions it did not see.
 */
function outOfFold(list: Row[], names: AnyFeature[], l2: number, k = 5, repeats = 4): number[] {
  const sums = new Array<number>(list.length).fill(0);
  for (let seed = 0; seed < repeats; seed += 1) {
    for (let fold = 0; fold < k; fold += 1) {
      const train = list.filter((r) => foldOf(r.text, seed, k) !== fold);
      const wi = fit(
        train.map((r) => valuesOf(r, names)),
        train.map((r) => (r.answerable ? 1 : 0)),
        l2,
      );
      list.forEach((r, i) => {
        if (foldOf(r.text, seed, k) === fold) sums[i]! += logit(wi, valuesOf(r, names)) / repeats;
      });
    }
  }
  return sums;
}

/** Area under the ROC curve: the chance an answerable question scores above an unanswerable one. */
function auc(list: Row[], scores: number[]): number {
  let wins = 0;
  let pairs = 0;
  list.forEach((a, i) => {
    if (!a.answerable) return;
    list.forEach((b, j) => {
      if (b.answerable) return;
      pairs += 1;
      wins += scores[i]! > scores[j]! ? 1 : scores[i]! === scores[j]! ? 0.5 : 0;
    });
  });
  return pairs ? wins / pairs : NaN;
}

/** Share of answerable questions at or above the line, and of unanswerable ones below it. */
function rates(list: Row[], scores: number[], line: number): { kept: number; low: number } {
  const a = list.filter((r) => r.answerable).length;
  const kept = list.filter((r, i) => r.answerable && scores[i]! >= line).length / a;
  const low = list.filter((r, i) => !r.answerable && scores[i]! < line).length / (list.length - a);
  return { kept, low };
}

/**
 * Where to draw the line on out-of-fold logits: the goals ask for 90 % of answerable questions
 * kept and 70 % of unanswerable ones below it, so the line is the one that leaves the most room
 * to the nearer goal (ties: the middle of the best stretch).
 */
function operatingPoint(list: Row[], scores: number[]): number {
  const candidates = [...new Set(scores)].sort((a, b) => a - b);
  const lines = candidates.map((v, i) => (i === 0 ? v - 0.01 : (v + candidates[i - 1]!) / 2));
  lines.push(candidates.at(-1)! + 0.01);
  let best = -Infinity;
  let chosen: number[] = [];
  for (const line of lines) {
    const { kept, low } = rates(list, scores, line);
    const slack = Math.min(kept - 0.9, low - 0.7);
    if (slack > best + 1e-9) {
      best = slack;
      chosen = [line];
    } else if (Math.abs(slack - best) <= 1e-9) chosen.push(line);
  }
  return chosen[Math.floor(chosen.length / 2)]!;
}

function score(label: string, list: Row[], conf: (row: Row) => number): void {
  const answerable = list.filter((r) => r.answerable);
  const unanswerable = list.filter((r) => !r.answerable);
  const kept = answerable.filter((r) => conf(r) >= 0.5).length / answerable.length;
  const low = unanswerable.filter((r) => conf(r) < 0.5).length / unanswerable.length;
  const r1 = answerable.filter((r) => r.rank === 1).length / answerable.length;
  const r5 = answerable.filter((r) => r.rank !== null && r.rank <= 5).length / answerable.length;
  const mrr = answerable.reduce((s, r) => s + (r.rank ? 1 / r.rank : 0), 0) / answerable.length;
  console.log(
    `${label.padEnd(26)} recall@1 ${r1.toFixed(3)}  recall@5 ${r5.toFixed(3)}  MRR ${mrr.toFixed(3)}  ` +
      `unanswerable < 0.5 ${(low * 100).toFixed(1)} %  answerable ≥ 0.5 ${(kept * 100).toFixed(1)} %  ` +
      `AUC ${auc(list, list.map(conf)).toFixed(3)}  (${answerable.length}/${unanswerable.length})`,
  );
}

/** Greedy forward selection of features by out-of-fold AUC on the rows given (the tune half). */
function search(list: Row[], l2: number): AnyFeature[] {
  const all = [
    ...(Object.keys(FEATURES) as FeatureName[]),
    ...(process.env.FIT_EXTRA
      ? (Object.keys(EXTRA_FEATURES) as ExtraFeature[])
      : process.env.FIT_SENT
        ? (Object.keys(SENTENCE_FEATURES) as ExtraFeature[])
        : []),
  ];
  let chosen: AnyFeature[] = [];
  let best = 0.5;
  for (;;) {
    let step: { name: AnyFeature; auc: number } | null = null;
    for (const name of all.filter((n) => !chosen.includes(n))) {
      const value = auc(list, outOfFold(list, [...chosen, name], l2, 5, 2));
      if (!step || value > step.auc) step = { name, auc: value };
    }
    if (!step || step.auc < best + 0.005) break;
    chosen = [...chosen, step.name];
    best = step.auc;
    console.log(`search: + ${step.name}  out-of-fold AUC ${best.toFixed(3)}`);
  }
  return chosen;
}

const url = process.env.EMBEDDINGS_URL;
const data = await rows(url ? openAiEmbeddings(url, process.env.EMBEDDINGS_MODEL ?? 'all-MiniLM-L6-v2') : null);
const tune = data.filter((r) => r.split === 'tune');
const heldOut = data.filter((r) => r.split === 'held-out');
// The model the product uses for this mode, unless FIT_FEATURES names others (comma-separated, from FEATURES).
const model = url ? CONFIDENCE_MODELS.vectors : CONFIDENCE_MODELS.words;
const l2 = Number(process.env.FIT_L2 ?? (url ? 0.3 : 0.3));
let names = (process.env.FIT_FEATURES?.split(',') ?? model.features) as AnyFeature[];
if (process.env.FIT_SEARCH) names = search(tune, l2);
for (const name of names) {
  if (!(name in FEATURES) && !(name in SENTENCE_FEATURES) && !(process.env.FIT_EXTRA && name in EXTRA_FEATURES)) {
    throw new Error(`FIT_FEATURES: unknown feature ${name}${name in EXTRA_FEATURES ? ' (needs FIT_EXTRA=1)' : ''}`);
  }
}
const featuresOf = (row: Row) => valuesOf(row, names);
// FIT_UNI=1: each feature's own AUC on the tune half (raw values, no fit), and its AUC added to the model's.
if (process.env.FIT_UNI) {
  const base = auc(tune, outOfFold(tune, names, l2, 5, 2));
  for (const name of [...Object.keys(FEATURES), ...Object.keys(SENTENCE_FEATURES)] as AnyFeature[]) {
    const raw = auc(
      tune,
      tune.map((r) => valuesOf(r, [name])[0]!),
    );
    const added = names.includes(name) ? base : auc(tune, outOfFold(tune, [...names, name], l2, 5, 2));
    console.log(
      `uni ${name.padEnd(18)} raw AUC ${raw.toFixed(3)}  model + it, out-of-fold AUC ${added.toFixed(3)} (model ${base.toFixed(3)})`,
    );
  }
}

/** The recipe: fit on the rows, then move the intercept so 0.5 falls at the operating point of their out-of-fold logits. */
function recipe(list: Row[]): { w: number[]; oof: number[]; line: number } {
  const w = fit(
    list.map((r) => featuresOf(r)),
    list.map((r) => (r.answerable ? 1 : 0)),
    l2,
  );
  const oof = outOfFold(list, names, l2);
  const line = operatingPoint(list, oof);
  return { w: [w[0]! - line, ...w.slice(1)], oof, line };
}

const { w, oof, line } = recipe(tune);
console.log(
  `${url ? 'with embeddings' : 'lexical only'}: fitted on ${tune.length} tune questions, L2 ${l2}, features ${names.join(', ')}`,
);
console.log(
  `coefficients (intercept first, operating point ${line.toFixed(3)} folded in): [${w.map((v) => v.toFixed(3)).join(', ')}]`,
);
{
  const { kept, low } = rates(tune, oof, line);
  console.log(
    `tune, 5-fold ×4 out-of-fold: unanswerable < 0.5 ${(low * 100).toFixed(1)} %  answerable ≥ 0.5 ${(kept * 100).toFixed(1)} %  AUC ${auc(tune, oof).toFixed(3)}`,
  );
}
const fitted = (row: Row) => sigmoid(logit(w, featuresOf(row)));
score('tune, checked in', tune, (r) => confidenceOf(r.evidence));
score('held-out, checked in', heldOut, (r) => confidenceOf(r.evidence));
score('tune, this fit', tune, fitted);
score('held-out, this fit', heldOut, fitted);
// A second split: the same recipe (features, penalty, operating point) fitted on the held-out half and scored on the tune half.
{
  const swapped = recipe(heldOut);
  score('tune, fit on held-out', tune, (r) => sigmoid(logit(swapped.w, featuresOf(r))));
}
// Cross-validation over both halves with the recipe fixed (features and penalty as chosen on the tune half):
// each fold's model and operating point come from the other folds only.
{
  const k = 5;
  let kept = 0;
  let low = 0;
  for (let fold = 0; fold < k; fold += 1) {
    const train = data.filter((r) => foldOf(r.text, 99, k) !== fold);
    const test = data.filter((r) => foldOf(r.text, 99, k) === fold);
    const fitted = recipe(train);
    for (const r of test) {
      const p = sigmoid(logit(fitted.w, featuresOf(r)));
      if (r.answerable && p >= 0.5) kept += 1;
      if (!r.answerable && p < 0.5) low += 1;
    }
  }
  const a = data.filter((r) => r.answerable).length;
  console.log(
    `all, 5-fold (recipe fixed): unanswerable < 0.5 ${((100 * low) / (data.length - a)).toFixed(1)} %  answerable ≥ 0.5 ${((100 * kept) / a).toFixed(1)} %`,
  );
}
if (process.env.BENCH_DUMP) {
  for (const r of data.sort((a, b) => confidenceOf(a.evidence) - confidenceOf(b.evidence))) {
    if (process.env.BENCH_DUMP === 'tune' && r.split !== 'tune') continue;
    const e = r.evidence;
    console.log(
      [
        confidenceOf(e).toFixed(2),
        fitted(r).toFixed(2),
        r.split === 'tune' ? 'T' : 'H',
        r.answerable ? `r${r.rank ?? '-'}` : 'UN',
        `cov ${e.coverage.toFixed(2)} foc ${e.focus.toFixed(2)} tit ${e.titled.toFixed(2)} mis ${e.missing.toFixed(2)} unk ${e.unknown.toFixed(2)}`,
        `cos ${e.cosine?.toFixed(2)} gap ${e.cosineGap?.toFixed(2)} mar ${e.margin.toFixed(2)} lr ${e.lexicalRank} vr ${e.vectorRank} kind ${e.kindHeld}`,
        `terms ${e.terms} miss ${e.missingTerms} strange ${e.strangeTerms} senses ${e.missingSenses.join(',')} else ${e.elsewhere.toFixed(2)}`,
        r.sent
          ? `sent ${r.sent.sentShare.toFixed(2)} smiss ${r.sent.sentMissing} sspec ${r.sent.sentSpecific} scat ${r.sent.scattered} bscat ${r.sent.bareScattered} win ${r.sent.winShare.toFixed(2)} dens ${r.sent.density.toFixed(2)} skind ${r.sent.sentKind}`
          : 'sent -',
        r.text,
      ].join('\t'),
    );
  }
}
