import MiniSearch from 'minisearch';
import { stemmer } from 'stemmer';
import { LexicalIndex } from './lexical-index.js';
import { STOPWORDS } from './stopwords.js';
import { synonymsOf } from './synonyms.js';
import { VectorMatrix } from './vector-matrix.js';

/** A searchable chunk as held in memory. */
export interface IndexedChunk {
  id: string;
  sourceId: string;
  title: string;
  heading: string;
  url: string | null;
  anchor: string | null;
  text: string;
  position: number;
  vector: Float32Array | null;
  vectorModel: string | null;
}

export interface LexicalHit {
  id: string;
  score: number;
  /** Share of the question's content words the chunk contains (0..1). */
  coverage: number;
}

export interface VectorHit {
  id: string;
  /** Cosine similarity (vectors are unit length). */
  score: number;
}

const STEMS = new Map<string, string>();
const MAX_STEMS = 200_000;

/** Lowercased, stemmed content words ("Refunds" → "refund"), as both the index and the queries see them. */
export function processTerm(term: string): string | null {
  const lower = term.toLowerCase();
  if (lower.length < 2 || STOPWORDS.has(lower)) return null;
  if (!/^[a-z]+$/.test(lower)) return lower;
  // Stemming dominates indexing time, and a language has far fewer words than a corpus has tokens.
  let stem = STEMS.get(lower);
  if (stem === undefined) {
    stem = stemmer(lower);
    if (STEMS.size < MAX_STEMS) STEMS.set(lower, stem);
  }
  return stem;
}

const tokenize = MiniSearch.getDefault('tokenize') as (text: string) => string[];

/** The distinct processed terms of a text. */
export function termsOf(text: string): Set<string> {
  const terms = new Set<string>();
  for (const token of tokenize(text)) {
    const term = processTerm(token);
    if (term) terms.add(term);
  }
  return terms;
}

/** The fields the lexical index scores, in the order of its boosts (title 1.5, heading 2, text 1). */
function lexicalFields(chunk: IndexedChunk): string[] {
  return [chunk.title, chunk.heading, chunk.text];
}

/** A float32 little-endian buffer as a vector (copied, since a stored buffer may be unaligned). */
export function toVector(buffer: Buffer | null | undefined): Float32Array | null {
  if (!buffer || buffer.length === 0 || buffer.length % 4 !== 0) return null;
  const vector = new Float32Array(buffer.length / 4);
  for (let i = 0; i < vector.length; i += 1) vector[i] = buffer.readFloatLE(i * 4);
  return vector;
}

/** A vector as the float32 little-endian buffer stored on its chunk (4 bytes per dimension). */
export function fromVector(vector: Float32Array): Buffer {
  const buffer = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i += 1) buffer.writeFloatLE(vector[i] ?? 0, i * 4);
  return buffer;
}

/**
 * One bot's chunks in memory: a BM25 index (LexicalIndex) over title, heading and text,
 * and the chunks' embeddings for an exact cosine scan (SIMD-prefiltered, see VectorMatrix).
 */
export class BotIndex {
  /**
   * Terms the bot's knowledge uses, to tell words it never mentions from words a chunk
   * lacks. Recorded while indexing and not shrunk on removal: a term of a deleted source
   * stays "known" until the next rebuild, which only makes confidence slightly stricter.
   */
  private readonly vocabulary = new Set<string>();
  private readonly lexical = new LexicalIndex(['title', 'heading', 'text'], [1.5, 2, 1], (term) => {
    const processed = processTerm(term);
    if (processed) {
      this.vocabulary.add(processed);
      this.termsBeingIndexed?.add(processed);
    }
    return processed;
  });
  private readonly chunks = new Map<string, IndexedChunk>();
  /** In how many chunks each term occurs, for the terms' weights (inverse document frequency). */
  private readonly documentFrequency = new Map<string, number>();
  /** The distinct terms of the chunk being tokenized, collected so each chunk is tokenized once. */
  private termsBeingIndexed: Set<string> | null = null;
  private readonly bySource = new Map<string, string[]>();
  private vectors = 0;
  private matrix: VectorMatrix | null = null;

  constructor(public version: number) {}

  get size(): number {
    return this.chunks.size;
  }

  get(id: string): IndexedChunk | undefined {
    return this.chunks.get(id);
  }

  chunksOf(sourceId: string): IndexedChunk[] {
    return (this.bySource.get(sourceId) ?? []).flatMap((id) => this.chunks.get(id) ?? []);
  }

  /** Sets a source's chunks, replacing any it had. */
  putSource(sourceId: string, chunks: IndexedChunk[]): void {
    this.removeSource(sourceId);
    this.matrix = null;
    for (const chunk of chunks) {
      this.chunks.set(chunk.id, chunk);
      if (chunk.vector) this.vectors += 1;
      this.index(chunk);
    }
    this.bySource.set(
      sourceId,
      chunks.map((chunk) => chunk.id),
    );
  }

  /** Adds chunks of a source while the index is being built from the database. */
  addChunk(chunk: IndexedChunk): void {
    this.matrix = null;
    this.chunks.set(chunk.id, chunk);
    if (chunk.vector) this.vectors += 1;
    this.index(chunk);
    const ids = this.bySource.get(chunk.sourceId);
    if (ids) ids.push(chunk.id);
    else this.bySource.set(chunk.sourceId, [chunk.id]);
  }

  removeSource(sourceId: string): void {
    const ids = this.bySource.get(sourceId);
    if (!ids) return;
    this.matrix = null;
    for (const id of ids) {
      const chunk = this.chunks.get(id);
      if (!chunk) continue;
      this.lexical.remove(id, lexicalFields(chunk));
      if (chunk.vector) this.vectors -= 1;
      this.count(termsOf(`${chunk.title} ${chunk.heading} ${chunk.text}`), -1);
      this.chunks.delete(id);
    }
    this.bySource.delete(sourceId);
  }

  /**
   * What each content word of a question weighs when judging whether a passage answers it:
   * its inverse document frequency, so a rare word missing from a passage counts more than a
   * common one. Words the knowledge never uses weigh half the rarest word's weight, so
   * "how long is X valid" does not need "long" and "valid" to be sure.
   */
  termWeights(query: string): Map<string, number> {
    const total = this.chunks.size;
    const idf = (df: number) => Math.log(1 + (total - df + 0.5) / (df + 0.5));
    const weights = new Map<string, number>();
    for (const term of termsOf(query)) {
      const df = this.documentFrequency.get(term) ?? 0;
      weights.set(term, df > 0 ? idf(df) : idf(1) / 2);
    }
    return weights;
  }

  /**
   * For each content word of a question, the words the bot's knowledge uses that mean the same
   * (WordNet synonyms of its common senses, processed as the index processes words). Words with
   * none are left out.
   */
  synonyms(query: string): Map<string, Set<string>> {
    const found = new Map<string, Set<string>>();
    for (const token of tokenize(query)) {
      const term = processTerm(token);
      if (!term) continue;
      for (const synonym of synonymsOf(token)) {
        const processed = processTerm(synonym);
        if (!processed || processed === term || !this.documentFrequency.has(processed)) continue;
        const set = found.get(term) ?? new Set<string>();
        set.add(processed);
        found.set(term, set);
      }
    }
    return found;
  }

  /** Whether any chunk of the bot's knowledge uses this processed term. */
  knows(term: string): boolean {
    return this.documentFrequency.has(term);
  }

  /** Adds a chunk to the lexical index and counts its distinct terms, from one tokenization. */
  private index(chunk: IndexedChunk): void {
    this.termsBeingIndexed = new Set();
    try {
      this.lexical.add(chunk.id, lexicalFields(chunk));
      this.count(this.termsBeingIndexed, 1);
    } finally {
      this.termsBeingIndexed = null;
    }
  }

  private count(terms: Set<string>, delta: 1 | -1): void {
    for (const term of terms) {
      const next = (this.documentFrequency.get(term) ?? 0) + delta;
      if (next > 0) this.documentFrequency.set(term, next);
      else this.documentFrequency.delete(term);
    }
  }

  hasVectors(): boolean {
    return this.vectors > 0;
  }

  /** BM25 matches, with prefix matching for longer words and fuzzy matching for unknown ones (typos). */
  searchLexical(query: string, limit: number, synonyms = this.synonyms(query)): LexicalHit[] {
    const terms = termsOf(query);
    if (terms.size === 0) return [];
    // Words the knowledge never uses weigh half: "how long is X valid" should not need "long" and "valid" to be sure.
    const weight = (term: string) => (this.vocabulary.has(term) ? 1 : 0.5);
    const total = [...terms].reduce((sum, term) => sum + weight(term), 0);
    // Every processed word of the question, repeats included (a repeated word weighs more, as it always has).
    const queryTerms = tokenize(query).flatMap((token) => {
      const term = processTerm(token);
      if (!term) return [];
      return [
        {
          term,
          prefix: term.length >= 5,
          // Fuzzy matching costs five times a plain search, so only words the knowledge never uses (typos) get it.
          fuzzy: term.length >= 5 && !this.vocabulary.has(term) ? 0.2 : (false as const),
          also: [...(synonyms.get(term) ?? [])],
        },
      ];
    });
    return this.lexical.search(queryTerms, limit).map((result) => ({
      id: result.id,
      score: result.score,
      coverage: Math.min(1, result.queryTerms.reduce((sum, term) => sum + weight(term), 0) / total),
    }));
  }

  /** The chunks closest to a query vector made by the same embedding model (exact, no approximation). */
  searchVector(query: Float32Array, model: string, limit: number): VectorHit[] {
    return this.vectorMatrix(model, query.length).search(query, limit);
  }

  /**
   * All vectors of one model in one contiguous array, rebuilt after changes. Each chunk's
   * vector then becomes a view into it, so the vectors are held once, not twice.
   */
  private vectorMatrix(model: string, dims: number): VectorMatrix {
    if (this.matrix?.model === model && this.matrix.dims === dims) return this.matrix;
    const members = [...this.chunks.values()].filter(
      (chunk) => chunk.vector && chunk.vectorModel === model && chunk.vector.length === dims,
    );
    const matrix = new VectorMatrix(
      model,
      dims,
      members.map((chunk) => chunk.id),
      members.map((chunk) => chunk.vector!),
    );
    members.forEach((chunk, row) => {
      chunk.vector = matrix.row(row);
    });
    this.matrix = matrix;
    return matrix;
  }
}
