/**
 * Stored day documents as a report reads them: the shape of a day document (`AnalyticsDay`), its conversion into a
 * `StoredDay` (per-quarter figures, and top lists for the whole day or per quarter), and the merge of a day's
 * documents (its shards, its unsharded document from before) into one day. Pure functions: reading and caching the
 * documents is `DayReader`'s job.
 */
import type { Types } from 'mongoose';
import { Tally, type Slot, type SlotFigures, type TopLists } from './tally.js';

/** A stored day as the report merges it; `slotTops` (per quarter, with wordings) only for a day covered in part. */
export interface StoredDay {
  key: string;
  /** The keys of the documents it was read from (its shards, its unsharded document from before). */
  docKeys: string[];
  day: Date;
  /** Question wordings read so far for this day (by hash; null: none), filled by `wordingsOf`. */
  wordings: Record<'qs' | 'gaps', Map<string, string | null>>;
  slots: Slot[];
  tops: Record<string, TopLists>;
  slotTops?: Array<Slot<TopLists>>;
}

export interface StoredDayDoc {
  _id: Types.ObjectId;
  rev: number;
  key: string;
  day: Date;
  s?: Record<
    string,
    Record<string, { n?: Record<string, number>; lat?: Record<string, number>; vis?: Record<string, number> }>
  >;
  t?: Record<string, Record<string, Record<'qs' | 'gaps' | 'src', Record<string, number>>>>;
  dt?: Record<string, Record<'qs' | 'gaps' | 'src', Record<string, number>>>;
  wqs?: Record<string, string>;
  wgaps?: Record<string, string>;
  si?: Record<string, [string, string, string | null]>;
}

/** Counted map entries above zero (a taken-away contribution leaves zeros behind). */
const counted = (map: Record<string, number> | undefined) => Object.entries(map ?? {}).filter(([, count]) => count > 0);

export function toStoredDay(doc: StoredDayDoc, perQuarter: boolean): StoredDay {
  const lists = (tops: Record<'qs' | 'gaps' | 'src', Record<string, number>> | undefined): TopLists => ({
    qs: counted(tops?.qs),
    gaps: counted(tops?.gaps),
    src: counted(tops?.src).flatMap(([hash, count]): TopLists['src'] => {
      const source = doc.si?.[hash];
      return source ? [[source[0], count, source[1], source[2]]] : [];
    }),
  });
  const slots: Slot[] = Object.entries(doc.s ?? {})
    .map(([quarter, byChannel]) => ({
      q: Number(quarter.slice(1)),
      ch: Object.fromEntries(
        Object.entries(byChannel).map(([channel, figures]): [string, SlotFigures] => [
          channel,
          {
            n: Object.fromEntries(Object.entries(figures.n ?? {}).filter(([, value]) => value !== 0)),
            lat: counted(figures.lat).map(([bucket, count]) => [Number(bucket.slice(1)), count]),
            vis: counted(figures.vis).map(([key]) => key),
          },
        ]),
      ),
    }))
    .sort((a, b) => a.q - b.q);
  const day = { key: doc.key, docKeys: [doc.key], day: doc.day, wordings: { qs: new Map(), gaps: new Map() }, slots };
  if (!perQuarter) {
    return {
      ...day,
      tops: Object.fromEntries(Object.entries(doc.dt ?? {}).map(([channel, tops]) => [channel, lists(tops)])),
    };
  }
  const slotTops = Object.entries(doc.t ?? {})
    .map(([quarter, byChannel]) => ({
      q: Number(quarter.slice(1)),
      ch: Object.fromEntries(Object.entries(byChannel).map(([channel, tops]) => [channel, lists(tops)])),
    }))
    .sort((a, b) => a.q - b.q);
  return { ...day, tops: {}, slotTops };
}

/**
 * A day from its documents (its shards, its unsharded document from before), which add up as days do: counters,
 * latency buckets and top lists add, visitors are the union. Each document's figures are what its own facts
 * contributed (a contribution is taken from the document it was added to), so none holds a count below zero.
 */
export function mergeDays(key: string, parts: StoredDay[]): StoredDay {
  const figures = (items: SlotFigures[]) => {
    const tally = new Tally(false);
    for (const item of items) tally.add(item);
    return tally.figures();
  };
  const lists = (items: TopLists[]) => {
    const tally = new Tally(true);
    for (const item of items) tally.addTops(item);
    return tally.tops();
  };
  const tops = new Map<string, TopLists[]>();
  for (const part of parts) {
    for (const [door, list] of Object.entries(part.tops)) tops.set(door, [...(tops.get(door) ?? []), list]);
  }
  const slotTops = parts.flatMap((part) => (part.slotTops ? [part.slotTops] : []));
  return {
    key,
    docKeys: parts.flatMap((part) => part.docKeys),
    day: parts[0]!.day,
    wordings: { qs: new Map(), gaps: new Map() },
    slots: mergeSlots(
      parts.map((part) => part.slots),
      figures,
    ),
    tops: Object.fromEntries([...tops].map(([door, items]) => [door, lists(items)])),
    ...(slotTops.length > 0 ? { slotTops: mergeSlots(slotTops, lists) } : {}),
  };
}

/** Slots of several documents merged by quarter hour and door. */
function mergeSlots<T>(lists: Array<Array<Slot<T>>>, merge: (items: T[]) => T): Array<Slot<T>> {
  const byQuarter = new Map<number, Map<string, T[]>>();
  for (const list of lists) {
    for (const slot of list) {
      let doors = byQuarter.get(slot.q);
      if (!doors) byQuarter.set(slot.q, (doors = new Map()));
      for (const [door, value] of Object.entries(slot.ch)) doors.set(door, [...(doors.get(door) ?? []), value]);
    }
  }
  return [...byQuarter]
    .sort(([a], [b]) => a - b)
    .map(([q, doors]) => ({ q, ch: Object.fromEntries([...doors].map(([door, items]) => [door, merge(items)])) }));
}
