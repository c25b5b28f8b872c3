/**
 * Reading the stored rollups for a report: the days of some bots over a period, each merged from its documents,
 * and the wordings of the few questions a report lists. Days and documents already read are kept in memory (by
 * the `_id` and `rev` they were read at), so a report reads again only what changed since.
 */
import type { Types } from 'mongoose';
import type { AnalyticsModels } from './analytics.model.js';
import { DAY_MS } from './calendar.js';
import { DAY_SHARDS, dayKey, WORDING_SEPARATOR } from './contribution.js';
import type { RollupBot } from './rollup-inputs.js';
import { mergeDays, toStoredDay, type StoredDay, type StoredDayDoc } from './stored-day.js';

/**
 * Converted days kept in memory (a 30-day report of one bot reads 31), and as many of their documents (a changed
 * day is merged again from its documents, of which only those changed are read again).
 */
const DAY_CACHE_SIZE = 5_000;

/** The stored days of bots as reports read them, merged from their documents and kept in memory. */
export class DayReader {
  /** Day documents as last read, by shape and key, with the `_id` and `rev` they were read at. */
  private readonly docCache = new Map<string, { id: string; rev: number; day: StoredDay }>();
  /** Days as last merged from their documents, by shape and key, with the documents' keys, `_id`s and `rev`s. */
  private readonly dayCache = new Map<string, { signature: string; day: StoredDay }>();

  constructor(private readonly models: AnalyticsModels) {}

  /**
   * The stored rollups of the bots' UTC days overlapping [from, to), each day merged from its documents (its
   * shards, and its unsharded document from before). Days the range covers whole come with their day's top lists;
   * days covered in part with per-quarter top lists instead.
   */
  async daysOf(bots: RollupBot[], from: number, to: number): Promise<StoredDay[]> {
    const shapes = new Map<string, 'whole' | 'partial'>();
    const days: Date[] = [];
    for (let day = Math.floor(from / DAY_MS) * DAY_MS; day < to; day += DAY_MS) {
      days.push(new Date(day));
      for (const bot of bots) {
        shapes.set(dayKey(bot._id, day), day >= from && day + DAY_MS <= to ? 'whole' : 'partial');
      }
    }
    // Only documents changed since they were last read here are read in full (a new `_id` or `rev` means changed),
    // and only days with a document changed, added or gone are merged again. The documents are found by bot and
    // day (an index lookup for each pair) whatever their shard: a list of every key would be matched against each
    // document found.
    const versions =
      bots.length === 0
        ? []
        : await this.models.AnalyticsDay.find(
            { chatbotId: { $in: bots.map((bot) => bot._id) }, day: { $in: days } },
            '_id key rev',
          ).lean<Array<{ _id: Types.ObjectId; key: string; rev: number }>>();
    const docsOf = new Map<string, typeof versions>();
    for (const version of versions) {
      const key = version.key.split(':', 2).join(':');
      const docs = docsOf.get(key);
      if (docs) docs.push(version);
      else docsOf.set(key, [version]);
    }
    const stored: StoredDay[] = [];
    const toMerge: Array<{ key: string; shape: 'whole' | 'partial'; signature: string; docs: typeof versions }> = [];
    const parts = new Map<string, StoredDay>();
    const stale: { whole: string[]; partial: string[] } = { whole: [], partial: [] };
    for (const [key, docs] of docsOf) {
      const shape = shapes.get(key);
      if (!shape) continue;
      const signature = docs
        .map((doc) => `${doc.key}@${doc._id.toString()}@${doc.rev}`)
        .sort()
        .join(' ');
      const cached = this.dayCache.get(`${shape}|${key}`);
      if (cached?.signature === signature) {
        stored.push(cached.day);
        continue;
      }
      toMerge.push({ key, shape, signature, docs });
      for (const doc of docs) {
        const part = this.docCache.get(`${shape}|${doc.key}`);
        if (part && part.id === doc._id.toString() && part.rev === doc.rev) parts.set(doc.key, part.day);
        else stale[shape].push(doc.key);
      }
    }
    const [wholeDays, partialDays] = await Promise.all([
      this.findDocs(stale.whole, '_id key rev day s dt si'),
      this.findDocs(stale.partial, '_id key rev day s t si'),
    ]);
    for (const [shape, docs] of [
      ['whole', wholeDays],
      ['partial', partialDays],
    ] as const) {
      for (const doc of docs) {
        const part = toStoredDay(doc, shape === 'partial');
        const entry = { id: doc._id.toString(), rev: doc.rev, day: part };
        remember(this.docCache, `${shape}|${doc.key}`, entry);
        parts.set(doc.key, part);
      }
    }
    for (const { key, shape, signature, docs } of toMerge) {
      const found = docs.flatMap((doc) => parts.get(doc.key) ?? []);
      if (found.length === 0) continue;
      const day = mergeDays(key, found);
      remember(this.dayCache, `${shape}|${key}`, { signature, day });
      stored.push(day);
    }
    return stored;
  }

  /**
   * Day documents by key: a few by their keys, more by bot and day as in `daysOf` (the bots' other documents of
   * those days, read too, are left out).
   */
  private async findDocs(keys: string[], fields: string): Promise<StoredDayDoc[]> {
    if (keys.length === 0) return [];
    if (keys.length <= DAY_SHARDS) {
      return this.models.AnalyticsDay.find({ key: { $in: keys } }, fields).lean<StoredDayDoc[]>();
    }
    const bots = new Set<string>();
    const days = new Set<string>();
    for (const key of keys) {
      const [bot = '', day = ''] = key.split(':');
      bots.add(bot);
      days.add(day);
    }
    const wanted = new Set(keys);
    const docs = await this.models.AnalyticsDay.find(
      { chatbotId: { $in: [...bots] }, day: { $in: [...days].map((day) => new Date(`${day}T00:00:00Z`)) } },
      fields,
    ).lean<StoredDayDoc[]>();
    return docs.filter((doc) => wanted.has(doc.key));
  }

  /** Forgets the days kept in memory (benches measure a report that reads every day in full). */
  forgetCachedDays(): void {
    this.docCache.clear();
    this.dayCache.clear();
  }

  /**
   * The wordings of questions (by hash) in these days: for each, the earliest asked, with its normalized text.
   * Read for the few questions a report lists, not with the figures.
   */
  async wordingsOf(
    days: StoredDay[],
    hashes: { qs: string[]; gaps: string[] },
  ): Promise<Record<'qs' | 'gaps', Map<string, { normalized: string; sample: string }>>> {
    // Each day keeps the wordings already read for it (its object is replaced when the day changes).
    const lists = [
      ['qs', 'wqs'],
      ['gaps', 'wgaps'],
    ] as const;
    const wanted = new Map<string, { day: StoredDay; fields: string[] }>();
    for (const day of days) {
      for (const [list, field] of lists) {
        for (const hash of hashes[list]) {
          if (day.wordings[list].has(hash)) continue;
          const entry = wanted.get(day.key) ?? { day, fields: [] };
          entry.fields.push(`${field}.${hash}`);
          wanted.set(day.key, entry);
        }
      }
    }
    const fields = [...new Set([...wanted.values()].flatMap((entry) => entry.fields))];
    if (fields.length > 0) {
      const docs = await this.findDocs(
        [...wanted.values()].flatMap(({ day }) => day.docKeys),
        `key ${fields.join(' ')}`,
      );
      const byKey = new Map(docs.map((doc) => [doc.key, doc]));
      for (const { day, fields: asked } of wanted.values()) {
        for (const path of asked) {
          const [field, hash = ''] = path.split('.') as ['wqs' | 'wgaps', string];
          // A day's wording is the earliest of its documents'.
          let wording: string | null = null;
          for (const key of day.docKeys) {
            const found = byKey.get(key)?.[field]?.[hash];
            if (found !== undefined && (wording === null || found < wording)) wording = found;
          }
          day.wordings[field === 'wqs' ? 'qs' : 'gaps'].set(hash, wording);
        }
      }
    }
    const earliest = (list: 'qs' | 'gaps') => {
      const found = new Map<string, string>();
      for (const day of days) {
        for (const hash of hashes[list]) {
          const wording = day.wordings[list].get(hash);
          if (!wording) continue;
          const seen = found.get(hash);
          if (seen === undefined || wording < seen) found.set(hash, wording);
        }
      }
      return new Map(
        [...found].map(([hash, wording]) => {
          const [, normalized = '', sample = ''] = wording.split(WORDING_SEPARATOR);
          return [hash, { normalized, sample }];
        }),
      );
    };
    return { qs: earliest('qs'), gaps: earliest('gaps') };
  }
}

/** Keeps an entry for later reports, dropping the least recently used beyond `DAY_CACHE_SIZE`. */
function remember<T>(cache: Map<string, T>, key: string, entry: T): void {
  cache.delete(key);
  cache.set(key, entry);
  while (cache.size > DAY_CACHE_SIZE) cache.delete(cache.keys().next().value!);
}
