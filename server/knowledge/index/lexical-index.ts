import MiniSearch from 'minisearch';
import SearchableMap from 'minisearch/SearchableMap';

/** A document's searchable fields, in scoring order. */
export type LexicalFields = readonly string[];

export interface LexicalMatch {
  id: string;
  score: number;
  /** Distinct query terms (as processed) the document matched, exactly or by prefix or fuzzily. */
  queryTerms: string[];
}

export interface LexicalQueryTerm {
  term: string;
  prefix: boolean;
  /** Share of the term's length allowed as edits (0.2 → 1 edit per 5 letters), or false. */
  fuzzy: number | false;
  /** Other indexed terms that mean the same (synonyms), matched at `SYNONYM_WEIGHT` as this term. */
  also?: readonly string[];
}

/** BM25+ parameters and match weights, the same as MiniSearch's defaults so scores keep their meaning. */
const K = 1.2;
const B = 0.7;
const D = 0.5;
const PREFIX_WEIGHT = 0.375;
const FUZZY_WEIGHT = 0.45;
const MAX_FUZZY = 6;
/** What a synonym's match weighs against the word itself: a reworded question should find its text, a little below exact words. */
const SYNONYM_WEIGHT = 0.5;

const tokenize = MiniSearch.getDefault('tokenize') as (text: string) => string[];

/** A term frequency of at least this is kept in `Postings.large` (rare: a word 255 times in one chunk). */
const LARGE_FREQ = 255;

/**
 * One term's occurrences in one field: parallel document ids and term frequencies, grown by
 * doubling and trimmed to size once an index is built. Frequencies take one byte; the rare
 * larger ones are kept aside by position.
 */
class Postings {
  docs = new Int32Array(4);
  freqs = new Uint8Array(4);
  /** Frequencies of LARGE_FREQ or more, by position in the list. */
  large: Map<number, number> | null = null;
  length = 0;
  /** Live documents holding the term (the BM25 document frequency). */
  live = 0;

  push(doc: number, freq: number): void {
    if (this.length === this.docs.length) this.resize(this.length * 2);
    this.docs[this.length] = doc;
    if (freq >= LARGE_FREQ) {
      this.freqs[this.length] = LARGE_FREQ;
      (this.large ??= new Map()).set(this.length, Math.min(freq, 65_535));
    } else this.freqs[this.length] = freq;
    this.length += 1;
    this.live += 1;
  }

  /** The frequency at position `i`. */
  freq(i: number): number {
    const freq = this.freqs[i]!;
    return freq === LARGE_FREQ ? this.large!.get(i)! : freq;
  }

  /** Frees the room kept for growth. */
  trim(): void {
    if (this.docs.length > this.length) this.resize(this.length);
  }

  /** Drops removed documents' entries. */
  compact(alive: Uint8Array): void {
    let kept = 0;
    const large = this.large;
    this.large = null;
    for (let i = 0; i < this.length; i += 1) {
      const doc = this.docs[i]!;
      if (!alive[doc]) continue;
      this.docs[kept] = doc;
      this.freqs[kept] = this.freqs[i]!;
      if (this.freqs[i] === LARGE_FREQ) (this.large ??= new Map()).set(kept, large!.get(i)!);
      kept += 1;
    }
    this.length = kept;
  }

  private resize(capacity: number): void {
    const docs = new Int32Array(Math.max(capacity, 1));
    docs.set(this.docs.subarray(0, this.length));
    this.docs = docs;
    const freqs = new Uint8Array(Math.max(capacity, 1));
    freqs.set(this.freqs.subarray(0, this.length));
    this.freqs = freqs;
  }
}

/**
 * A BM25+ inverted index over typed arrays, scoring exactly as MiniSearch does (same formula,
 * field boosts, prefix and fuzzy weights, and the "quality" factor of matched query terms), so
 * its results keep their meaning for the retriever. MiniSearch builds a Map entry and result
 * object per matching document and sorts them all, which at 100k chunks cost hundreds of
 * milliseconds for common words; here scores add up in flat arrays and a heap keeps the top k.
 * The term dictionary stays MiniSearch's radix tree, for prefix and fuzzy lookups.
 */
export class LexicalIndex {
  private readonly terms = new SearchableMap<Postings[]>();
  private ids: (string | undefined)[] = [];
  private alive = new Uint8Array(1024);
  /** Field lengths (distinct tokens, as MiniSearch counts them), one array per field. */
  private lengths: Uint16Array[];
  /** Average field lengths, kept as MiniSearch keeps them (a running mean) so scores match to the last bit. */
  private readonly averages: number[];
  private count = 0;
  private dead = 0;
  // Per-query scratch space, reused between queries.
  private scores = new Float64Array(1024);
  private matched = new Uint16Array(1024);
  private stamp = new Int32Array(1024);
  private touched: Int32Array = new Int32Array(64);
  private heap = new TopHeap(64);
  private query = 0;

  constructor(
    private readonly fields: LexicalFields,
    private readonly boosts: readonly number[],
    private readonly processTerm: (term: string) => string | null,
  ) {
    this.lengths = fields.map(() => new Uint16Array(1024));
    this.averages = fields.map(() => 0);
  }

  get size(): number {
    return this.count;
  }

  /** Adds a document and returns its number, which `remove` takes (the caller keeps it: no map by id here). */
  add(id: string, values: readonly string[]): number {
    const doc = this.ids.length;
    this.ensureCapacity(doc + 1);
    this.ids.push(id);
    this.alive[doc] = 1;
    this.count += 1;
    values.forEach((value, field) => {
      const tokens = tokenize(value);
      const length = new Set(tokens).size;
      // Chunks are a few hundred tokens; a field of more than 65,535 distinct ones would count as that many.
      this.lengths[field]![doc] = Math.min(length, 65_535);
      this.averages[field] = (this.averages[field]! * (this.count - 1) + length) / this.count;
      const freqs = new Map<string, number>();
      for (const token of tokens) {
        const term = this.processTerm(token);
        if (term) freqs.set(term, (freqs.get(term) ?? 0) + 1);
      }
      for (const [term, freq] of freqs) {
        let lists = this.terms.get(term);
        if (!lists) {
          lists = [];
          this.terms.set(term, lists);
        }
        (lists[field] ??= new Postings()).push(doc, freq);
      }
    });
    return doc;
  }

  /** Removes document `doc`; `values` are the fields it was added with, to update its terms' frequencies. */
  remove(doc: number, values: readonly string[]): void {
    if (!this.alive[doc]) return;
    this.alive[doc] = 0;
    this.ids[doc] = undefined;
    this.fields.forEach((_, field) => {
      const length = this.lengths[field]![doc]!;
      this.averages[field] = this.count > 1 ? (this.averages[field]! * this.count - length) / (this.count - 1) : 0;
      const seen = new Set<string>();
      for (const token of tokenize(values[field] ?? '')) {
        const term = this.processTerm(token);
        if (!term || seen.has(term)) continue;
        seen.add(term);
        const postings = this.terms.get(term)?.[field];
        if (postings) postings.live -= 1;
      }
    });
    this.count -= 1;
    this.dead += 1;
    if (this.dead > 1000 && this.dead > this.count) this.vacuum();
  }

  /** Top `limit` documents for the terms, combined with OR, best first (ties in first-match order). */
  search(queryTerms: readonly LexicalQueryTerm[], limit: number): LexicalMatch[] {
    if (this.count === 0 || queryTerms.length === 0) return [];
    // A repeated query word counts as many times as it appears, as in MiniSearch.
    const unique = new Map<string, LexicalQueryTerm & { times: number }>();
    for (const spec of queryTerms) {
      const seen = unique.get(spec.term);
      if (seen) seen.times += 1;
      else unique.set(spec.term, { ...spec, times: 1 });
    }
    const specs = [...unique.values()];
    const { scores, matched, stamp } = this;
    // A stamp per query marks which scratch entries are this query's, so nothing needs clearing.
    this.query += 1;
    const query = this.query;
    let touched = this.touched;
    let touchedCount = 0;
    // matched[doc] holds a bit per query term (up to 16), for the quality factor and queryTerms.
    const termBits = specs.length <= 16;
    const matchedTerms: Set<number>[] | null = termBits ? null : [];

    for (let termIndex = 0; termIndex < specs.length; termIndex += 1) {
      const spec = specs[termIndex]!;
      for (const [derived, weight] of this.expand(spec)) {
        const lists = this.terms.get(derived);
        if (!lists) continue;
        for (let field = 0; field < this.fields.length; field += 1) {
          const postings = lists[field];
          if (!postings || postings.live === 0) continue;
          // Multiplied in MiniSearch's order, so equal scores stay equal and ties keep their order.
          const boost = weight * spec.times * this.boosts[field]!;
          const idf = Math.log(1 + (this.count - postings.live + 0.5) / (postings.live + 0.5));
          const average = this.averages[field]!;
          const { docs, freqs, length } = postings;
          const fieldLengths = this.lengths[field]!;
          const alive = this.alive;
          const bit = termBits ? 1 << termIndex : 0;
          for (let i = 0; i < length; i += 1) {
            const doc = docs[i]!;
            if (!alive[doc]) continue;
            let freq = freqs[i]!;
            if (freq === LARGE_FREQ) freq = postings.freq(i);
            const score =
              boost * (idf * (D + (freq * (K + 1)) / (freq + K * (1 - B + (B * fieldLengths[doc]!) / average))));
            if (stamp[doc] !== query) {
              stamp[doc] = query;
              scores[doc] = score;
              matched[doc] = 0;
              if (touchedCount === touched.length) touched = this.growTouched(touchedCount);
              touched[touchedCount] = doc;
              touchedCount += 1;
            } else {
              scores[doc] = scores[doc]! + score;
            }
            if (termBits) matched[doc] = matched[doc]! | bit;
            else (matchedTerms![doc] ??= new Set()).add(termIndex);
          }
        }
      }
    }

    // Score × number of distinct query terms matched (MiniSearch's "quality"), top k by a min-heap
    // kept in reused typed arrays: a query allocates nothing per matching document.
    const heap = this.heapFor(limit);
    let size = 0;
    for (let order = 0; order < touchedCount; order += 1) {
      const doc = touched[order]!;
      const score = scores[doc]! * (termBits ? popcount(matched[doc]!) : matchedTerms![doc]!.size);
      if (size < limit) {
        heap.push(size, doc, order, score);
        size += 1;
      } else if (heap.worse(0, score, order)) {
        heap.replaceTop(size, doc, order, score);
      }
    }
    heap.sort(size);
    const result: LexicalMatch[] = [];
    for (let at = 0; at < size; at += 1) {
      const doc = heap.docs[at]!;
      result.push({
        id: this.ids[doc]!,
        score: heap.scores[at]!,
        queryTerms: specs
          .filter((_, i) => (termBits ? (matched[doc]! >> i) & 1 : matchedTerms![doc]!.has(i)))
          .map((spec) => spec.term),
      });
    }
    return result;
  }

  /** The reused list of documents a query touched, grown (and kept) when a query touches more. */
  private growTouched(count: number): Int32Array {
    const grown = new Int32Array(Math.max(64, Math.min(Math.max(this.ids.length, count + 1), count * 2)));
    grown.set(this.touched.subarray(0, count));
    this.touched = grown;
    return grown;
  }

  private heapFor(limit: number): TopHeap {
    if (this.heap.capacity < limit) this.heap = new TopHeap(limit);
    return this.heap;
  }

  /** The query term and the indexed terms it reaches by prefix or typo, with MiniSearch's weights. */
  private expand(spec: LexicalQueryTerm): Array<[string, number]> {
    const found: Array<[string, number]> = [[spec.term, 1]];
    const prefixed = new Set<string>();
    if (spec.prefix) {
      for (const term of this.terms.atPrefix(spec.term).keys()) {
        const distance = term.length - spec.term.length;
        if (!distance) continue;
        prefixed.add(term);
        found.push([term, (PREFIX_WEIGHT * term.length) / (term.length + 0.3 * distance)]);
      }
    }
    for (const term of spec.also ?? []) {
      if (term !== spec.term && !prefixed.has(term)) found.push([term, SYNONYM_WEIGHT]);
    }
    if (spec.fuzzy) {
      const maxDistance = Math.min(MAX_FUZZY, Math.round(spec.term.length * spec.fuzzy));
      if (maxDistance) {
        for (const [term, [, distance]] of this.terms.fuzzyGet(spec.term, maxDistance)) {
          if (!distance || prefixed.has(term)) continue;
          found.push([term, (FUZZY_WEIGHT * term.length) / (term.length + distance)]);
        }
      }
    }
    return found;
  }

  private ensureCapacity(size: number): void {
    if (size <= this.alive.length) return;
    const capacity = Math.max(size, this.alive.length * 2);
    const grow = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(
      array: T,
      make: (n: number) => T,
    ) => {
      const grown = make(capacity);
      grown.set(array);
      return grown;
    };
    this.alive = grow(this.alive, (n) => new Uint8Array(n));
    this.lengths = this.lengths.map((array) => grow(array, (n) => new Uint16Array(n)));
    this.scores = new Float64Array(capacity);
    this.matched = new Uint16Array(capacity);
    this.stamp = new Int32Array(capacity);
  }

  /** Frees the room posting lists keep for growth (once an index is built; later additions grow them again). */
  trim(): void {
    for (const lists of this.terms.values()) for (const postings of lists) postings?.trim();
  }

  /** Drops removed documents from every posting list once they outnumber the live ones. */
  private vacuum(): void {
    for (const lists of this.terms.values()) for (const postings of lists) postings?.compact(this.alive);
    this.dead = 0;
  }
}

function popcount(bits: number): number {
  let count = 0;
  for (let rest = bits; rest; rest &= rest - 1) count += 1;
  return count;
}

/**
 * A min-heap of the best entries so far (the worst on top), in parallel typed arrays reused
 * between queries. An entry is worse when its score is lower, or equal and it was touched later
 * (so ties keep first-match order).
 */
class TopHeap {
  readonly docs: Int32Array;
  readonly orders: Int32Array;
  readonly scores: Float64Array;

  constructor(readonly capacity: number) {
    this.docs = new Int32Array(capacity);
    this.orders = new Int32Array(capacity);
    this.scores = new Float64Array(capacity);
  }

  /** Whether the entry at heap position `at` is worse than (score, order). */
  worse(at: number, score: number, order: number): boolean {
    const mine = this.scores[at]!;
    return mine < score || (mine === score && this.orders[at]! > order);
  }

  private worseAt(a: number, b: number): boolean {
    return this.worse(a, this.scores[b]!, this.orders[b]!);
  }

  push(size: number, doc: number, order: number, score: number): void {
    this.set(size, doc, order, score);
    let child = size;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!this.worseAt(child, parent)) break;
      this.swap(child, parent);
      child = parent;
    }
  }

  replaceTop(size: number, doc: number, order: number, score: number): void {
    this.set(0, doc, order, score);
    this.siftDown(0, size);
  }

  /** Sorts the entries best first in place (a heapsort: the worst goes to the end each time). */
  sort(size: number): void {
    for (let end = size - 1; end > 0; end -= 1) {
      this.swap(0, end);
      this.siftDown(0, end);
    }
  }

  private siftDown(at: number, size: number): void {
    let parent = at;
    for (;;) {
      const left = parent * 2 + 1;
      const right = left + 1;
      let least = parent;
      if (left < size && this.worseAt(left, least)) least = left;
      if (right < size && this.worseAt(right, least)) least = right;
      if (least === parent) return;
      this.swap(parent, least);
      parent = least;
    }
  }

  private set(at: number, doc: number, order: number, score: number): void {
    this.docs[at] = doc;
    this.orders[at] = order;
    this.scores[at] = score;
  }

  private swap(a: number, b: number): void {
    const doc = this.docs[a]!;
    const order = this.orders[a]!;
    const score = this.scores[a]!;
    this.set(a, this.docs[b]!, this.orders[b]!, this.scores[b]!);
    this.set(b, doc, order, score);
  }
}
