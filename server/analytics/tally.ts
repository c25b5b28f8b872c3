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

/** A question counted by its normalized text, with one original wording to show. */
type QuestionEntry = [normalized: string, count: number, sample: string];
type SourceEntry = [sourceId: string, count: number, title: string, url: string | null];

/**
 * One door's figures for one quarter hour, as stored. Everything in it merges exactly: counters add, the
 * first-token latencies are counted per whole millisecond (so percentiles of a merge are exact), visitors
 * are kept as keys (so a union counts each once), questions and sources as counts by key.
 */
export interface ChannelSlot {
  n: Partial<Record<Counter, number>>;
  lat: Array<[ms: number, count: number]>;
  vis: string[];
  qs: QuestionEntry[];
  gaps: QuestionEntry[];
  src: SourceEntry[];
}

/** A quarter hour of a UTC day (`q` from 0 to 95), by door (`widget`, `api`). */
export interface Slot {
  q: number;
  ch: Record<string, ChannelSlot>;
}

function addCount<K>(map: Map<K, number>, key: K, count: number): void {
  map.set(key, (map.get(key) ?? 0) + count);
}

function addQuestion(map: Map<string, { count: number; sample: string }>, [normalized, count, sample]: QuestionEntry) {
  const entry = map.get(normalized);
  if (entry) entry.count += count;
  else map.set(normalized, { count, sample });
}

/** Nearest-rank percentile of a latency histogram: the smallest value at or above which `p`% of samples lie. */
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
  readonly questions = new Map<string, { count: number; sample: string }>();
  readonly gaps = new Map<string, { count: number; sample: string }>();
  readonly sources = new Map<string, { count: number; title: string; url: string | null }>();

  constructor(private readonly withTopLists = true) {}

  count(counter: Counter, by = 1): void {
    if (by !== 0) addCount(this.counters, counter, by);
  }

  firstToken(ms: number): void {
    addCount(this.latency, Math.round(ms), 1);
  }

  question(into: 'questions' | 'gaps', normalized: string, sample: string): void {
    addQuestion(this[into], [normalized, 1, sample]);
  }

  source(sourceId: string, title: string, url: string | null): void {
    const entry = this.sources.get(sourceId);
    if (entry) entry.count += 1;
    else this.sources.set(sourceId, { count: 1, title, url });
  }

  /** Adds a stored slot's figures. */
  add(slot: ChannelSlot): void {
    for (const [counter, value] of Object.entries(slot.n)) this.count(counter as Counter, value);
    for (const [ms, count] of slot.lat) addCount(this.latency, ms, count);
    for (const key of slot.vis) this.visitors.add(key);
    if (!this.withTopLists) return;
    for (const entry of slot.qs) addQuestion(this.questions, entry);
    for (const entry of slot.gaps) addQuestion(this.gaps, entry);
    for (const [sourceId, count, title, url] of slot.src) {
      const entry = this.sources.get(sourceId);
      if (entry) entry.count += count;
      else this.sources.set(sourceId, { count, title, url });
    }
  }

  /** Adds another tally (e.g. one door's into the all-doors total). */
  merge(other: Tally): void {
    this.add(other.toSlot());
  }

  toSlot(): ChannelSlot {
    return {
      n: Object.fromEntries(this.counters),
      lat: [...this.latency],
      vis: [...this.visitors],
      qs: [...this.questions].map(([normalized, { count, sample }]) => [normalized, count, sample]),
      gaps: [...this.gaps].map(([normalized, { count, sample }]) => [normalized, count, sample]),
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
