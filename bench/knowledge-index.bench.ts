/**
 * Knowledge index bench: one bot's in-memory index at 100k chunks (no database), queried
 * lexically and by vector, next to a baseline measured in the same run on the same corpus:
 * MiniSearch with the options the index used before, and the plain exact vector scan.
 * Queries alternate between the two so load on the shared machine weighs on both alike;
 * the figures to compare are the ratios.
 * Run: npx tsx bench/knowledge-index.bench.ts (BENCH_CHUNKS=10000 for a shorter run)
 */
import { loadavg } from 'node:os';
import MiniSearch from 'minisearch';
import { BotIndex, processTerm, type IndexedChunk } from '../server/knowledge/index/bot-index.js';
import { embedText } from '../server/test/fake-llm/fake-llm.embeddings.js';
import { collectGarbage, paragraph, rand } from './knowledge-bench-kit.js';
import { percentile } from './percentile.js';

const CHUNKS = Number(process.env.BENCH_CHUNKS ?? 100_000);
const DIMS = 384;
const QUERIES = 300;
const CANDIDATES = 50;

/** The exact scan the index did before: one contiguous array, four running sums per row. */
function plainScan(data: Float32Array, ids: string[], query: Float32Array, limit: number) {
  const dims = query.length;
  const top: Array<{ id: string; score: number }> = [];
  for (let row = 0; row < ids.length; row += 1) {
    const base = row * dims;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let i = 0; i < dims; i += 4) {
      s0 += data[base + i]! * query[i]!;
      s1 += data[base + i + 1]! * query[i + 1]!;
      s2 += data[base + i + 2]! * query[i + 2]!;
      s3 += data[base + i + 3]! * query[i + 3]!;
    }
    const dot = s0 + s1 + s2 + s3;
    if (top.length >= limit && dot <= top[top.length - 1]!.score) continue;
    let at = top.length;
    while (at > 0 && top[at - 1]!.score < dot) at -= 1;
    top.splice(at, 0, { id: ids[row]!, score: dot });
    if (top.length > limit) top.pop();
  }
  return top;
}

const startLoad = loadavg()[0]!;
const chunks: IndexedChunk[] = Array.from({ length: CHUNKS }, (_, i) => {
  const text = paragraph();
  return {
    id: `c${i}`,
    sourceId: `s${Math.floor(i / 100)}`,
    title: `Source ${Math.floor(i / 100)}`,
    heading: `Section ${i % 100}`,
    url: null,
    anchor: null,
    text,
    position: i % 100,
    vector: Float32Array.from(embedText(text, DIMS)),
    vectorModel: 'bench-embed',
  };
});
const vectors = new Float32Array(CHUNKS * DIMS);
chunks.forEach((chunk, row) => vectors.set(chunk.vector!, row * DIMS));
const ids = chunks.map((chunk) => chunk.id);

let started = performance.now();
const index = new BotIndex(1);
for (let s = 0; s < CHUNKS / 100; s += 1) index.putSource(`s${s}`, chunks.slice(s * 100, s * 100 + 100));
index.trim(); // as a build from the database ends
index.searchVector(Float32Array.from(embedText('warm up', DIMS)), 'bench-embed', CANDIDATES);
const buildMs = performance.now() - started;
started = performance.now();
const baseline = new MiniSearch<IndexedChunk>({
  fields: ['title', 'heading', 'text'],
  processTerm,
  searchOptions: { boost: { title: 1.5, heading: 2 } },
});
baseline.addAll(chunks);
const baselineBuildMs = performance.now() - started;
const tokenize = MiniSearch.getDefault('tokenize') as (text: string) => string[];
const vocabulary = new Set(chunks.flatMap((chunk) => tokenize(chunk.text).map(processTerm)));

const queries = Array.from({ length: QUERIES }, () => {
  const words = (chunks[Math.floor(rand() * chunks.length)]?.text ?? '').replace(/\./g, '').split(' ');
  const at = Math.floor(rand() * Math.max(1, words.length - 4));
  return words.slice(at, at + 4).join(' ');
});
const time = (run: () => unknown) => {
  const t0 = performance.now();
  run();
  return performance.now() - t0;
};
const timings = {
  lexical: [] as number[],
  lexicalBase: [] as number[],
  vector: [] as number[],
  vectorBase: [] as number[],
};
let sameLexical = 0;
let sameVector = 0;
collectGarbage();
for (const query of queries) {
  const vector = Float32Array.from(embedText(query, DIMS));
  let mine: string[] = [];
  let theirs: string[] = [];
  timings.lexical.push(time(() => (mine = index.searchLexical(query, CANDIDATES).map((hit) => hit.id))));
  timings.lexicalBase.push(
    time(() => {
      theirs = baseline
        .search(query, {
          prefix: (term) => term.length >= 5,
          fuzzy: (term) => (term.length >= 5 && !vocabulary.has(term) ? 0.2 : false),
          combineWith: 'OR',
        })
        .slice(0, CANDIDATES)
        .map((hit) => String(hit.id));
    }),
  );
  if (mine.join() === theirs.join()) sameLexical += 1;
  timings.vector.push(time(() => (mine = index.searchVector(vector, 'bench-embed', CANDIDATES).map((hit) => hit.id))));
  timings.vectorBase.push(time(() => (theirs = plainScan(vectors, ids, vector, CANDIDATES).map((hit) => hit.id))));
  if (mine.join() === theirs.join()) sameVector += 1;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const row = (name: string, now: number[], before: number[]) =>
  `| ${name} | ${ms(percentile(before, 50))} / ${ms(percentile(before, 99))} | ${ms(percentile(now, 50))} / ${ms(percentile(now, 99))} | ` +
  `${(percentile(before, 50) / percentile(now, 50)).toFixed(1)}× / ${(percentile(before, 99) / percentile(now, 99)).toFixed(1)}× |`;
console.log(
  `${CHUNKS} chunks, ${DIMS} dimensions, ${QUERIES} queries, top ${CANDIDATES}; load average ${startLoad.toFixed(1)} ` +
    `at the start, ${loadavg()[0]!.toFixed(1)} at the end; build ${ms(buildMs)} (MiniSearch ${ms(baselineBuildMs)})`,
);
console.log('');
console.log('| search | baseline p50 / p99 | index p50 / p99 | speed-up p50 / p99 |');
console.log('|---|---|---|---|');
console.log(row('lexical (MiniSearch → LexicalIndex)', timings.lexical, timings.lexicalBase));
console.log(row('vector (plain scan → int8 SIMD prefilter + exact)', timings.vector, timings.vectorBase));
const hybrid = timings.lexical.map((value, i) => value + timings.vector[i]!);
const hybridBase = timings.lexicalBase.map((value, i) => value + timings.vectorBase[i]!);
console.log(row('lexical + vector', hybrid, hybridBase));
console.log('');
console.log(
  `Same top ${CANDIDATES} as the baseline: lexical ${sameLexical}/${QUERIES}, vector ${sameVector}/${QUERIES}.`,
);
