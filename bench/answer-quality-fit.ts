/**
 * Fits the confidence model of `server/knowledge/confidence.ts` on the tune half of the
 * answer-quality bench, in process (no server): the help centre's documents go into a bot index,
 * each question goes through the real retriever, and the evidence it saw about its first passage
 * is kept with whether the question is answerable. A logistic regression (L2, gradient descent) is
 * fitted on the tune half only and scored on both halves; the coefficients it prints are the ones
 * to check into `confidence.ts`. Same data and split as `answer-quality.bench.ts`.
 * Run: npx tsx bench/answer-quality-fit.ts   (EMBEDDINGS_URL as for the bench; FIT_FEATURES=a,b and FIT_L2=x
 * try other models; BENCH_DUMP=1 lists every question with its evidence)
 */
import { createHash } from 'node:crypto';
import { BotIndex, type IndexedChunk } from '../server/knowledge/index/bot-index.js';
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
import { helpCentreQuestions } from './help-centre-questions.js';

interface Row {
  text: string;
  answerable: boolean;
  split: 'tune' | 'held-out';
  rank: number | null;
  evidence: AnswerEvidence;
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
    cache: { get: async () => index } as unknown as IndexCache,
    botModelSettings: async () => null,
    modelResolver: null,
    logger: silent,
  });
  const questions = helpCentreQuestions(process.env.BENCH_ORIGINAL !== '1');
  const out: Row[] = [];
  for (const question of questions) {
    const target = { chatbotId: '0123456789abcdef01234567', organizationId: 'o' };
    const result = await retriever.retrieve(target, question.text, { embeddings });
    const sources = [...new Set(result.passages.map((p) => p.sourceId))];
    const at = question.answer === null ? -1 : sources.indexOf(`s${question.answer}`);
    out.push({
      text: question.text,
      answerable: question.answer !== null,
      split: splitOf(question.text),
      rank: at >= 0 ? at + 1 : null,
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
      },
    });
  }
  return out;
}

/**
 * Logistic regression with an L2 penalty (not on the intercept), by gradient descent on
 * standardised features; the coefficients returned are for the raw features, intercept first.
 */
function fit(x: number[][], y: number[], l2: number): number[] {
  const dims = x[0]!.length;
  const mean = Array.from({ length: dims }, (_, j) => x.reduce((s, row) => s + row[j]!, 0) / x.length);
  const sd = Array.from({ length: dims }, (_, j) =>
    Math.max(1e-6, Math.sqrt(x.reduce((s, row) => s + (row[j]! - mean[j]!) ** 2, 0) / x.length)),
  );
  const z = x.map((row) => row.map((v, j) => (v - mean[j]!) / sd[j]!));
  const w = new Array<number>(dims + 1).fill(0);
  for (let step = 0; step < 3000; step += 1) {
    const grad = new Array<number>(w.length).fill(0);
    z.forEach((row, i) => {
      const err = 1 / (1 + Math.exp(-(w[0]! + row.reduce((sum, v, j) => sum + v * w[j + 1]!, 0)))) - y[i]!;
      grad[0]! += err;
      row.forEach((v, j) => (grad[j + 1]! += err * v));
    });
    for (let j = 0; j < w.length; j += 1) w[j]! -= 0.5 * (grad[j]! / z.length + (j > 0 ? l2 * w[j]! : 0));
  }
  const raw = w.slice(1).map((v, j) => v / sd[j]!);
  return [w[0]! - raw.reduce((sum, v, j) => sum + v * mean[j]!, 0), ...raw];
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
    `${label.padEnd(22)} recall@1 ${r1.toFixed(3)}  recall@5 ${r5.toFixed(3)}  MRR ${mrr.toFixed(3)}  ` +
      `unanswerable < 0.5 ${(low * 100).toFixed(1)} %  answerable ≥ 0.5 ${(kept * 100).toFixed(1)} %`,
  );
}

const url = process.env.EMBEDDINGS_URL;
const data = await rows(url ? openAiEmbeddings(url, process.env.EMBEDDINGS_MODEL ?? 'all-MiniLM-L6-v2') : null);
const tune = data.filter((r) => r.split === 'tune');
const heldOut = data.filter((r) => r.split === 'held-out');
// The model the product uses for this mode, unless FIT_FEATURES names others (comma-separated, from FEATURES).
const model = url ? CONFIDENCE_MODELS.vectors : CONFIDENCE_MODELS.words;
const names = (process.env.FIT_FEATURES?.split(',') ?? model.features) as FeatureName[];
for (const name of names) if (!(name in FEATURES)) throw new Error(`FIT_FEATURES: unknown feature ${name}`);
const featuresOf = (evidence: AnswerEvidence) => featureValues(evidence, names);
const l2 = Number(process.env.FIT_L2 ?? (url ? 0.3 : 0.1));
const w = fit(
  tune.map((r) => featuresOf(r.evidence)),
  tune.map((r) => (r.answerable ? 1 : 0)),
  l2,
);
console.log(
  `${url ? 'with embeddings' : 'lexical only'}: fitted on ${tune.length} tune questions, L2 ${l2}, features ${names.join(', ')}`,
);
console.log(`coefficients (intercept first): [${w.map((v) => v.toFixed(3)).join(', ')}]`);
// Leave-one-out on the tune half: what a fit would score on questions it did not see, without touching held-out.
{
  let kept = 0;
  let low = 0;
  tune.forEach((row, i) => {
    const rest = tune.filter((_, j) => j !== i);
    const wi = fit(
      rest.map((r) => featuresOf(r.evidence)),
      rest.map((r) => (r.answerable ? 1 : 0)),
      l2,
    );
    const f = featuresOf(row.evidence);
    const p = 1 / (1 + Math.exp(-(wi[0]! + f.reduce((s, v, j) => s + v * wi[j + 1]!, 0))));
    if (row.answerable && p >= 0.5) kept += 1;
    if (!row.answerable && p < 0.5) low += 1;
  });
  const a = tune.filter((r) => r.answerable).length;
  console.log(
    `tune, leave-one-out: unanswerable < 0.5 ${((100 * low) / (tune.length - a)).toFixed(1)} %  answerable ≥ 0.5 ${((100 * kept) / a).toFixed(1)} %`,
  );
}
const fitted = (row: Row) => {
  const f = featuresOf(row.evidence);
  return 1 / (1 + Math.exp(-(w[0]! + f.reduce((s, v, j) => s + v * w[j + 1]!, 0))));
};
score('tune, checked in', tune, (r) => confidenceOf(r.evidence));
score('held-out, checked in', heldOut, (r) => confidenceOf(r.evidence));
score('tune, this fit', tune, fitted);
score('held-out, this fit', heldOut, fitted);
if (process.env.BENCH_DUMP) {
  for (const r of data.sort((a, b) => confidenceOf(a.evidence) - confidenceOf(b.evidence))) {
    const e = r.evidence;
    console.log(
      [
        confidenceOf(e).toFixed(2),
        fitted(r).toFixed(2),
        r.split === 'tune' ? 'T' : 'H',
        r.answerable ? `r${r.rank ?? '-'}` : 'UN',
        `cov ${e.coverage.toFixed(2)} foc ${e.focus.toFixed(2)} tit ${e.titled.toFixed(2)} mis ${e.missing.toFixed(2)} unk ${e.unknown.toFixed(2)}`,
        `cos ${e.cosine?.toFixed(2)} gap ${e.cosineGap?.toFixed(2)} mar ${e.margin.toFixed(2)} lr ${e.lexicalRank} vr ${e.vectorRank} kind ${e.kindHeld}`,
        r.text,
      ].join('\t'),
    );
  }
}
