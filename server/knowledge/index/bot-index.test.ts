import MiniSearch from 'minisearch';
import { describe, expect, it } from 'vitest';
import { BotIndex, processTerm, type IndexedChunk } from './bot-index.js';

/** Deterministic pseudo-random numbers, so every run sees the same corpus. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const SYLLABLES = 'ka lo mi nu pe ra si to vu wa xe yo za be co di fu ga he ji'.split(' ');
const VOCABULARY = Array.from({ length: 3_000 }, (_, i) => {
  let word = '';
  for (let n = i + 7; n > 0; n = Math.floor(n / SYLLABLES.length)) word += SYLLABLES[n % SYLLABLES.length];
  return word;
});

function corpus(count: number, dims: number, seed = 1): IndexedChunk[] {
  const rand = random(seed);
  const word = () => VOCABULARY[Math.floor(VOCABULARY.length * rand() ** 3)] ?? 'ka';
  return Array.from({ length: count }, (_, i) => {
    const vector = Float32Array.from({ length: dims }, () => rand() - 0.5);
    const norm = Math.hypot(...vector);
    return {
      id: `c${i}`,
      sourceId: `s${Math.floor(i / 20)}`,
      title: `Guide ${word()}`,
      heading: i % 3 ? `About ${word()} ${word()}` : '',
      url: null,
      anchor: null,
      text: `${Array.from({ length: 30 + Math.floor(rand() * 40) }, word).join(' ')}.`,
      position: i % 20,
      vector: vector.map((value) => value / norm),
      vectorModel: 'test-embed',
    };
  });
}

function indexOf(chunks: IndexedChunk[]): BotIndex {
  const index = new BotIndex(1);
  const bySource = new Map<string, IndexedChunk[]>();
  for (const chunk of chunks) bySource.set(chunk.sourceId, [...(bySource.get(chunk.sourceId) ?? []), chunk]);
  for (const [sourceId, members] of bySource) index.putSource(sourceId, members);
  return index;
}

describe('BotIndex lexical search', () => {
  it('ranks and scores as MiniSearch with the same options', () => {
    const chunks = corpus(1_000, 8);
    const index = indexOf(chunks);
    const reference = new MiniSearch<IndexedChunk>({
      fields: ['title', 'heading', 'text'],
      processTerm,
      searchOptions: { boost: { title: 1.5, heading: 2 } },
    });
    reference.addAll(chunks);
    const rand = random(9);
    // Words of the corpus, a repeated word, a prefix, a typo of a known word, an unknown word.
    const queries = Array.from({ length: 40 }, () => {
      const words = chunks[Math.floor(rand() * chunks.length)]!.text.replace('.', '').split(' ');
      const at = Math.floor(rand() * (words.length - 4));
      return words.slice(at, at + 4).join(' ');
    });
    queries.push('guide guide kalomi', 'kalom', `${VOCABULARY[2_000]!.slice(0, -1)}q`, 'zzzzzz nothing');
    const tokenize = MiniSearch.getDefault('tokenize') as (text: string) => string[];
    const vocabulary = new Set(
      chunks.flatMap((chunk) => tokenize(`${chunk.title} ${chunk.heading} ${chunk.text}`).map(processTerm)),
    );
    const known = (term: string) => vocabulary.has(term);
    for (const query of queries) {
      const expected = reference
        .search(query, {
          prefix: (term) => term.length >= 5,
          fuzzy: (term) => (term.length >= 5 && !known(term) ? 0.2 : false),
          combineWith: 'OR',
        })
        .slice(0, 50);
      const actual = index.searchLexical(query, 50);
      expect(actual.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
      actual.forEach((hit, i) => expect(hit.score).toBeCloseTo(expected[i]!.score, 9));
    }
  });

  it('forgets a removed source at once and finds its replacement', () => {
    const chunks = corpus(200, 8);
    const index = indexOf(chunks);
    const target = chunks[42]!;
    const query = target.text.split(' ').slice(0, 6).join(' ');
    expect(index.searchLexical(query, 5).map((hit) => hit.id)).toContain(target.id);
    index.removeSource(target.sourceId);
    expect(index.searchLexical(query, 50).map((hit) => hit.id)).not.toContain(target.id);
    expect(index.size).toBe(180);
    index.putSource(target.sourceId, [{ ...target, id: 'replacement' }]);
    expect(index.searchLexical(query, 5)[0]?.id).toBe('replacement');
  });
});

describe('BotIndex vector search', () => {
  /** The plain exact scan the index must agree with. */
  function exactTop(chunks: IndexedChunk[], query: Float32Array, limit: number) {
    return chunks
      .map((chunk, row) => {
        let dot = 0;
        for (let i = 0; i < query.length; i += 1) dot += chunk.vector![i]! * query[i]!;
        return { id: chunk.id, dot, row };
      })
      .sort((a, b) => b.dot - a.dot || a.row - b.row)
      .slice(0, limit)
      .map((hit) => hit.id);
  }

  it('returns the exact top k through the SIMD prefilter, near-ties included', () => {
    const chunks = corpus(2_500, 64, 3);
    // Near-duplicates of one vector (differing in the last bits) test the prefilter's error bound.
    for (let i = 0; i < 40; i += 1) {
      const vector = Float32Array.from(chunks[7]!.vector!);
      vector[i % 64] = vector[i % 64]! + (i - 20) * 1e-7;
      chunks[100 + i]!.vector = vector;
    }
    const expected = chunks.map((chunk) => ({ ...chunk, vector: Float32Array.from(chunk.vector!) }));
    const index = indexOf(chunks);
    const rand = random(5);
    const queries = [
      Float32Array.from(chunks[7]!.vector!),
      ...Array.from({ length: 20 }, () => Float32Array.from({ length: 64 }, () => rand() - 0.5)),
    ];
    for (const query of queries) {
      expect(index.searchVector(query, 'test-embed', 50).map((hit) => hit.id)).toEqual(exactTop(expected, query, 50));
    }
  });

  it('ignores vectors of another model or width', () => {
    const chunks = corpus(30, 8);
    chunks[0]!.vectorModel = 'other';
    const index = indexOf(chunks);
    const hits = index.searchVector(Float32Array.from(chunks[0]!.vector!), 'test-embed', 50);
    expect(hits).toHaveLength(29);
    expect(hits.map((hit) => hit.id)).not.toContain('c0');
  });

  it('keeps every vector across rebuilds: a source put again from the index, another model asked in between', () => {
    const chunks = corpus(2_500, 32, 4);
    for (const chunk of chunks.slice(0, 300)) chunk.vectorModel = 'other';
    const expected = chunks.map((chunk) => ({ ...chunk, vector: Float32Array.from(chunk.vector!) }));
    const index = indexOf(chunks);
    const rand = random(6);
    const query = () => Float32Array.from({ length: 32 }, () => rand() - 0.5);
    const exactOf = (model: string, q: Float32Array) =>
      exactTop(
        expected.filter((chunk) => chunk.vectorModel === model),
        q,
        50,
      );
    for (let round = 0; round < 3; round += 1) {
      const [a, b] = [query(), query()];
      expect(index.searchVector(a, 'test-embed', 50).map((hit) => hit.id)).toEqual(exactOf('test-embed', a));
      // A retitle puts a source's chunks back from the index itself, vectors included.
      index.putSource(
        's3',
        index.chunksOf('s3').map((chunk) => ({ ...chunk, title: `Renamed ${round}` })),
      );
      expect(index.searchVector(b, 'other', 50).map((hit) => hit.id)).toEqual(exactOf('other', b));
      expect(index.searchVector(a, 'test-embed', 50).map((hit) => hit.id)).toEqual(exactOf('test-embed', a));
    }
    expect(index.hasVectors()).toBe(true);
  });
});
