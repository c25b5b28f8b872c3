/**
 * Fits the confidence model of `server/knowledge/confidence.ts` on the tune half of the
 * answer-quality bench, in process (no server): the help centre's documents go into a bot index,
 * each question goes through the real retriever, and the evidence it saw about its first passage
 * is kept with whether the question is answerable. A logistic regression (L2, gradient descent) is
 * fitted on the tune half only and scored on both halves; the coefficients it prints are the ones
 * to check into `confidence.ts`. Same data and split as `answer-quality.bench.ts`.
 * Run: npx tsx bench/answer-quality-fit.ts   (EMBEDDINGS_URL as for the bench; BENCH_DUMP=1 lists every question)
 */
import { createHash } from 'node:crypto';
import { BotIndex, type IndexedChunk } from '../server/knowledge/index/bot-index.js';
import type { IndexCache } from '../server/knowledge/index/index-cache.js';
import { KnowledgeRetriever } from '../server/knowledge/knowledge.retriever.js';
import { confidenceOf, featuresOf, type AnswerEvidence } from '../server/knowledge/confidence.js';
import { SUPPORT_CORPUS } from '../server/knowledge/test/support-corpus.js';
import type { EmbeddingModel } from '../server/llm/model-client.js';
import type { Logger } from '../server/logger.js';
import { HELP_CENTRE_UNANSWERABLE } from './help-centre-unanswerable.js';

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
  const questions = [
    ...SUPPORT_CORPUS.flatMap((doc, i) => doc.questions.map((text) => ({ text, answer: i as number | null }))),
    ...HELP_CENTRE_UNANSWERABLE.map((text) => ({ text, answer: null })),
  ];
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

/** Logistic regression by batch gradient descent with an L2 penalty (not on the intercept). */
function fit(x: number[][], y: number[], l2: number): number[] {
  const w = new Array<number>(x[0]!.length + 1).fill(0);
  for (let step = 0; step < Number(process.env.FIT_STEPS ?? 4000); step += 1) {
    const grad = new Array<number>(w.length).fill(0);
    x.forEach((row, i) => {
      const z = w[0]! + row.reduce((sum, v, j) => sum + v * w[j + 1]!, 0);
      const err = 1 / (1 + Math.exp(-z)) - y[i]!;
      grad[0]! += err;
      row.forEach((v, j) => (grad[j + 1]! += err * v));
    });
    for (let j = 0; j < w.length; j += 1) w[j]! -= (0.5 * (grad[j]! / x.length + (j > 0 ? l2 * w[j]! : 0)));
  }
  return w;
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
const l2 = Number(process.env.FIT_L2 ?? 0.01);
const w = fit(
  tune.map((r) => featuresOf(r.evidence)),
  tune.map((r) => (r.answerable ? 1 : 0)),
  l2,
);
console.log(`${url ? 'with embeddings' : 'lexical only'}: fitted on ${tune.length} tune questions, L2 ${l2}`);
console.log(`coefficients (intercept first): [${w.map((v) => v.toFixed(3)).join(', ')}]`);
// Leave-one-out on the tune half: what a fit would score on questions it did not see, without touching held-out.
{
  const bias = Number(process.env.FIT_BIAS ?? 0);
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
    const p = 1 / (1 + Math.exp(-(wi[0]! + bias + f.reduce((s, v, j) => s + v * wi[j + 1]!, 0))));
    if (row.answerable && p >= 0.5) kept += 1;
    if (!row.answerable && p < 0.5) low += 1;
  });
  const a = tune.filter((r) => r.answerable).length;
  console.log(`tune leave-one-out (bias ${bias}): unanswerable < 0.5 ${((100 * low) / (tune.length - a)).toFixed(1)} %  answerable ≥ 0.5 ${((100 * kept) / a).toFixed(1)} %`);
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
