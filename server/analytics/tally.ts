import type { ChannelMetrics } from '../../shared/schemas/analytics.js';

/** The additive figures of a slot, summed as they are. */
export const COUNTERS = [
  'conversations',
  'visitorMessages',
  'answers',
  'answered',
  'lowConfidence',
  'unanswered',
  'feedbackUp',
  'feedbackDown',
  'promptTokens',
  'completionTokens',
  'modelFailures',
] as const;
export type Counter = (typeof COUNTERS)[number];

/** A question counted by the hash of its normalized text (its wording is looked up for the top lists only). */
type QuestionEntry = [hash: string, count: number];
type SourceEntry = [sourceId: string, count: number, title: string, url: string | null];

/**
 * The fixed bucket of a first-token latency, named by its lower bound: 10 ms wide below 1 s, 100 ms wide
 * below 10 s, 1 s wide below 60 s, one bucket beyond. Buckets are the same everywhere, so histograms of
 * quarter hours and days add up exactly and a percentile of the sum is the percentile of the raw samples
 * rounded down to its bucket.
 */
export function latencyBucket(ms: number): number {
  const value = Math.max(0, Math.round(ms));
  if (value < 1_000) return Math.floor(value / 10) * 10;
  if (value < 10_000) return Math.floor(value / 100) * 100;
  if (value < 60_000) return Math.floor(value / 1_000) * 1_000;
  return 60_000;
}

/**
 * One door's figures for one quarter hour. Everything in it merges exactly: counters add, first-token
 * latencies are counted per fixed bucket (see `latencyBucket`), visitors are kept as keys (so a union counts
 * each once).
 */
export interface SlotFigures {
  n: Partial<Record<Counter, number>>;
  lat: Array<[ms: number, count: number]>;
  vis: string[];
}

/** Questions and unanswered questions by hash, and cited sources, counted. */
export interface TopLists {
  qs: QuestionEntry[];
  gaps: QuestionEntry[];
  src: SourceEntry[];
}

/** A quarter hour of a UTC day (`q` from 0 to 95), by door (`widget`, `api`). */
export interface Slot<T = SlotFigures> {
  q: number;
  ch: Record<string, T>;
}

function addCount<K>(map: Map<K, number>, key: K, count: number): void {
  map.set(key, (map.get(key) ?? 0) + count);
}

/** Nearest-rank percentile of a latency histogram: the bucket holding the sample of rank `p`%, by its lower bound. */
function percentile(sorted: Array<[number, number]>, total: number, p: number): number | null {
  if (total === 0) return null;
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (const [ms, count] of sorted) {
    seen += count;
    if (seen >= rank) return ms;
  }
  return sorted.at(-1)?.[0] ?? null;
}

const share = (part: number, whole: number) => (whole === 0 ? null : Math.round((part / whole) * 10_000) / 10_000);

/**
 * Figures being added up: from raw records while a slot is built, or from stored slots while a report is
 * merged. Top lists are only kept when asked for (a series point does not need them).
 */
export class Tally {
  readonly counters = new Map<Counter, number>();
  readonly latency = new Map<number, number>();
  readonly visitors = new Set<string>();
  readonly questions = new Map<string, number>();
  readonly gaps = new Map<string, number>();
  readonly sources = new Map<string, { count: number; title: string; url: string | null }>();

  constructor(private readonly withTopLists = true) {}

  count(counter: Counter, by = 1): void {
    if (by !== 0) addCount(this.counters, counter, by);
  }

  firstToken(ms: number): void {
    addCount(this.latency, latencyBucket(ms), 1);
  }

  source(sourceId: string, title: string, url: string | null): void {
    const entry = this.sources.get(sourceId);
    if (entry) entry.count += 1;
    else this.sources.set(sourceId, { count: 1, title, url });
  }

  /** Adds a stored slot's figures. */
  add(figures: SlotFigures): void {
    for (const [counter, value] of Object.entries(figures.n)) this.count(counter as Counter, value);
    for (const [ms, count] of figures.lat) addCount(this.latency, ms, count);
    for (const key of figures.vis) this.visitors.add(key);
  }

  /** Adds stored top lists. */
  addTops(tops: TopLists): void {
    if (!this.withTopLists) return;
    for (const [hash, count] of tops.qs) addCount(this.questions, hash, count);
    for (const [hash, count] of tops.gaps) addCount(this.gaps, hash, count);
    for (const [sourceId, count, title, url] of tops.src) {
      const entry = this.sources.get(sourceId);
      if (entry) entry.count += count;
      else this.sources.set(sourceId, { count, title, url });
    }
  }

  /** Adds another tally (e.g. one door's into the all-doors total). */
  merge(other: Tally): void {
    this.add(other.figures());
    this.addTops(other.tops());
  }

  figures(): SlotFigures {
    return { n: Object.fromEntries(this.counters), lat: [...this.latency], vis: [...this.visitors] };
  }

  tops(): TopLists {
    return {
      qs: [...this.questions],
      gaps: [...this.gaps],
      src: [...this.sources].map(([sourceId, { count, title, url }]) => [sourceId, count, title, url]),
    };
  }

  metrics(): ChannelMetrics {
    const n = (counter: Counter) => this.counters.get(counter) ?? 0;
    const answers = n('answers');
    const sorted = [...this.latency].sort((a, b) => a[0] - b[0]);
    const samples = sorted.reduce((sum, [, count]) => sum + count, 0);
    return {
      conversations: n('conversations'),
      visitorMessages: n('visitorMessages'),
      answers,
      uniqueVisitors: this.visitors.size,
      answered: n('answered'),
      lowConfidence: n('lowConfidence'),
      unanswered: n('unanswered'),
      answeredShare: share(n('answered'), answers),
      lowConfidenceShare: share(n('lowConfidence'), answers),
      unansweredShare: share(n('unanswered'), answers),
      feedback: { up: n('feedbackUp'), down: n('feedbackDown') },
      tokens: {
        prompt: n('promptTokens'),
        completion: n('completionTokens'),
        total: n('promptTokens') + n('completionTokens'),
      },
      modelFailures: n('modelFailures'),
      firstTokenMs: { p50: percentile(sorted, samples, 50), p95: percentile(sorted, samples, 95), samples },
    };
  }
}

/** The `limit` most counted entries of a map, ties broken by key so the order is stable. */
export function topOf<T extends { count: number }>(map: Map<string, T>, limit: number): Array<[string, T]> {
  return [...map].sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, limit);
}
