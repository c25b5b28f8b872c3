import MiniSearch from 'minisearch';
import { stemmer } from 'stemmer';
import { LexicalIndex } from './lexical-index.js';
import { STOPWORDS } from './stopwords.js';
import { synonymsOf } from './synonyms.js';
import { VectorMatrix } from './vector-matrix.js';

/** What a chunk's `vector` holds once the vector lives in its bot's vector matrix (truthy, so "has a vector" still reads true). */
const IN_MATRIX = new Float32Array(0);

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

/** Each word as written ("Refunds") and what `processTerm` makes of it ("refund", or null for a stopword). */
const PROCESSED = new Map<string, string | null>();
const MAX_PROCESSED = 200_000;

function processWord(term: string): string | null {
  const lower = term.toLowerCase();
  if (lower.length < 2 || STOPWORDS.has(lower)) return null;
  if (!/^[a-z]+$/.test(lower)) return lower;
  return stemmer(lower);
}

/** Lowercased, stemmed content words ("Refunds" → "refund"), as both the index and the queries see them. */
export function processTerm(term: string): string | null {
  // Indexing, reranking and excerpts process every word of every passage they read, and a language has far
  // fewer words than a corpus has tokens: one lookup instead of lowercasing, the stopword check and stemming.
  let processed = PROCESSED.get(term);
  if (processed === undefined) {
    processed = processWord(term);
    if (PROCESSED.size < MAX_PROCESSED) PROCESSED.set(term, processed);
  }
  return processed;
}

const tokenize = MiniSearch.getDefault('tokenize') as (text: string) => string[];

/** The distinct processed terms of a text; with `only`, just those among them. */
export function termsOf(text: string, only?: Set<string>): Set<string> {
  const terms = new Set<string>();
  for (const token of tokenize(text)) {
    const term = processTerm(token);
    if (term && (!only || only.has(term))) terms.add(term);
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
  /** Each source's chunk ids, and their numbers in the lexical index (the same order). */
  private readonly bySource = new Map<string, { ids: string[]; docs: number[] }>();
  private vectors = 0;
  /** The vector matrix for the current chunks, or null after a change (rebuilt on the next vector search). */
  private matrix: VectorMatrix | null = null;
  /** The last matrix built, current or not: chunks holding `IN_MATRIX` have their vector there. */
  private stored: VectorMatrix | null = null;

  constructor(public version: number) {}

  get size(): number {
    return this.chunks.size;
  }

  get(id: string): IndexedChunk | undefined {
    return this.chunks.get(id);
  }

  chunksOf(sourceId: string): IndexedChunk[] {
    return (this.bySource.get(sourceId)?.ids ?? []).flatMap((id) => this.chunks.get(id) ?? []);
  }

  /** Sets a source's chunks, replacing any it had. */
  putSource(sourceId: string, chunks: IndexedChunk[]): void {
    this.removeSource(sourceId);
    for (const chunk of chunks) this.addChunk(chunk.sourceId === sourceId ? chunk : { ...chunk, sourceId });
  }

  /** Adds a chunk of a source (while the index is being built from the database, or by `putSource`). */
  addChunk(chunk: IndexedChunk): void {
    // As MiniSearch did: a chunk is added once, and removed (with its source) before it comes back.
    if (this.chunks.has(chunk.id)) throw new Error(`duplicate document id ${chunk.id}`);
    this.matrix = null;
    let source = this.bySource.get(chunk.sourceId);
    if (!source) {
      source = { ids: [], docs: [] };
      this.bySource.set(chunk.sourceId, source);
    } else {
      // A source's chunks repeat its title (and often page and heading): equal strings are held once.
      const previous = this.chunks.get(source.ids[source.ids.length - 1]!);
      if (previous) {
        if (previous.title === chunk.title) chunk.title = previous.title;
        if (previous.url === chunk.url) chunk.url = previous.url;
        if (previous.heading === chunk.heading) chunk.heading = previous.heading;
      }
    }
    this.chunks.set(chunk.id, chunk);
    if (chunk.vector) this.vectors += 1;
    source.ids.push(chunk.id);
    source.docs.push(this.index(chunk));
  }

  removeSource(sourceId: string): void {
    const source = this.bySource.get(sourceId);
    if (!source) return;
    this.matrix = null;
    for (const [at, id] of source.ids.entries()) {
      const chunk = this.chunks.get(id);
      if (!chunk) continue;
      this.lexical.remove(source.docs[at]!, lexicalFields(chunk));
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

  /** Adds a chunk to the lexical index and counts its distinct terms, from one tokenization; returns its number there. */
  private index(chunk: IndexedChunk): number {
    this.termsBeingIndexed = new Set();
    try {
      const doc = this.lexical.add(chunk.id, lexicalFields(chunk));
      this.count(this.termsBeingIndexed, 1);
      return doc;
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

  /** Frees the room the index keeps for growth; called once a built index is complete. */
  trim(): void {
    this.lexical.trim();
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
   * All vectors of one model in one contiguous array, rebuilt after changes. A chunk whose vector
   * went into the matrix holds `IN_MATRIX` instead, so each vector is held once (a view per chunk
   * would cost about 100 bytes a chunk); the last matrix built is kept until the next one, which
   * takes its rows from it, and vectors of chunks left out of the next one are given back first.
   */
  private vectorMatrix(model: string, dims: number): VectorMatrix {
    if (this.matrix?.model === model && this.matrix.dims === dims) return this.matrix;
    const previous = this.stored;
    const previousRows = new Map(previous?.ids.map((id, row) => [id, row]));
    const vectorOf = (chunk: IndexedChunk): Float32Array | null => {
      if (chunk.vector !== IN_MATRIX) return chunk.vector;
      const row = previousRows.get(chunk.id);
      return previous && row !== undefined ? previous.row(row) : null;
    };
    const members: IndexedChunk[] = [];
    const vectors: Float32Array[] = [];
    for (const chunk of this.chunks.values()) {
      const vector = vectorOf(chunk);
      if (vector && chunk.vectorModel === model && vector.length === dims) {
        members.push(chunk);
        vectors.push(vector);
      } else if (chunk.vector === IN_MATRIX) chunk.vector = vector && Float32Array.from(vector);
    }
    const matrix = new VectorMatrix(
      model,
      dims,
      members.map((chunk) => chunk.id),
      vectors,
    );
    for (const chunk of members) chunk.vector = IN_MATRIX;
    this.matrix = matrix;
    this.stored = matrix;
    return matrix;
  }
}
