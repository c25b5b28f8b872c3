import { Binary, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LaunchedDb } from './test/launched-db.js';

interface Item {
  _id: number | string;
  org: number;
  slug: string;
  v?: number;
  tags?: string[];
}

/**
 * The launcher looks a filter naming every key of a unique index (plus other conditions) up in that index
 * rather than scanning the collection. These check that the answers are those of a scan: the other
 * conditions still decide, and a conditional upsert that does not match still fails on the unique key.
 */
describe.each([
  ['in memory', false],
  ['on an H2 file', true],
])('filters that name a unique index and more (%s)', (_label, onFile) => {
  const launched = new LaunchedDb(onFile);
  let database: Db;

  beforeAll(async () => {
    await launched.start();
    database = launched.client.db('index_narrowing');
    const items = database.collection<Item>('items');
    await items.createIndex({ org: 1, slug: 1 }, { unique: true });
    await items.insertMany(
      Array.from({ length: 50 }, (_, i) => ({ _id: i, org: i % 5, slug: `s${i}`, v: 1, tags: ['a', `t${i}`] })),
    );
  });
  afterAll(() => launched.stop());

  it('finds, counts and misses by _id with other conditions as a scan would', async () => {
    const items = database.collection<Item>('items');
    expect(await items.findOne({ _id: 7, org: 2 })).toMatchObject({ _id: 7, slug: 's7' });
    expect(await items.findOne({ _id: 7, org: 3 })).toBeNull();
    expect(await items.findOne({ _id: 7, $and: [{ v: { $lte: 1 } }, { tags: 't7' }] })).toMatchObject({ _id: 7 });
    expect(await items.findOne({ _id: 7, $or: [{ v: 2 }, { tags: 't8' }] })).toBeNull();
    expect(await items.countDocuments({ _id: { $in: [1, 2, 3, 99] }, v: 1 })).toBe(3);
    expect(await items.countDocuments({ _id: 999, v: 1 })).toBe(0);
    expect(await items.findOne({ org: 4, slug: 's9', v: 1 })).toMatchObject({ _id: 9 });
    expect(await items.findOne({ org: 4, slug: 's9', v: 2 })).toBeNull();
  });

  it("looks up $in lists of a unique index's keys with other conditions, answering in scan order", async () => {
    const items = database.collection<Item>('items');
    // `$and` names no key: the library's scan, to compare with.
    const both = async (filter: Record<string, unknown>, options: Record<string, unknown> = {}) => {
      const found = await items.find(filter, options).toArray();
      expect(found, JSON.stringify(filter)).toEqual(await items.find({ $and: [filter] }, options).toArray());
      return found.map((item) => item._id);
    };
    expect(await both({ _id: { $in: [30, 3, 1, 3, 99, 1.0] }, v: 1 })).toEqual([1, 3, 30]);
    expect(await both({ _id: { $in: [30, 3, 1] }, v: 1 }, { limit: 2 })).toEqual([1, 3]);
    expect(await both({ _id: { $in: [30, 3, 1] }, v: 1 }, { sort: { _id: -1 }, skip: 1 })).toEqual([3, 1]);
    expect(await both({ _id: { $in: [4, 9, 14] }, org: { $in: [4, 0] } })).toEqual(
      [4, 9, 14].filter((i) => i % 5 === 4),
    );
    expect(await both({ org: { $in: [2, 3, 2] }, slug: { $in: ['s2', 's3', 's8', 's40'] }, v: 1 })).toEqual([2, 3, 8]);
    expect(await both({ org: 1, slug: { $in: ['s1', 's6', 'zz'] }, tags: 'a' })).toEqual([1, 6]);
    // Not plain: left to the scan (the library's own $in lookup missed what a regex in the list matches).
    const named = database.collection<{ _id: string; v: number }>('named');
    await named.insertMany([
      { _id: 'a1', v: 1 },
      { _id: 'b2', v: 1 },
      { _id: 'b3', v: 2 },
    ]);
    expect(await named.find({ _id: { $in: [/^b/, 'a1'] }, v: 1 }).toArray()).toEqual([
      { _id: 'a1', v: 1 },
      { _id: 'b2', v: 1 },
    ]);
    expect(await both({ _id: { $in: [2, null] }, v: 1 })).toEqual([2]);
    expect(await both({ _id: { $in: [] }, v: 1 })).toEqual([]);
    expect((await items.updateMany({ _id: { $in: [40, 41, 41] }, v: 1 }, { $set: { w: 1 } })).modifiedCount).toBe(2);
    expect((await items.deleteMany({ _id: { $in: [40, 41, 42] }, w: 1 })).deletedCount).toBe(2);
    expect(await items.countDocuments({ _id: { $in: [40, 41, 42] } })).toBe(1);
  });

  it('updates and deletes only what matches every condition', async () => {
    const items = database.collection<Item>('items');
    expect((await items.updateOne({ _id: 10, v: 2 }, { $set: { x: 1 } })).matchedCount).toBe(0);
    expect((await items.updateOne({ _id: 10, v: 1 }, { $inc: { v: 1 } })).modifiedCount).toBe(1);
    expect(await items.findOne({ _id: 10 })).toMatchObject({ v: 2 });
    expect((await items.deleteOne({ _id: 11, org: 0 })).deletedCount).toBe(0);
    expect((await items.deleteOne({ _id: 11, org: 1 })).deletedCount).toBe(1);
    expect(await items.findOne({ _id: 11 })).toBeNull();
  });

  it('keeps a conditional upsert atomic: a stale condition fails on the unique _id, a fresh one applies', async () => {
    const facts = database.collection<{ _id: number; v: number; e: Record<string, { u: number }> }>('facts');
    const write = (u: number) =>
      facts.findOneAndUpdate(
        { _id: 1, $and: [{ $or: [{ 'e.a': { $exists: false } }, { 'e.a.u': { $lte: u } }] }] },
        { $set: { 'e.a': { u } }, $inc: { v: 1 } },
        { upsert: true, returnDocument: 'before' },
      );
    expect(await write(5)).toBeNull();
    expect(await write(6)).toMatchObject({ v: 1, e: { a: { u: 5 } } });
    await expect(write(2)).rejects.toMatchObject({ code: 11000 });
    expect(await facts.findOne({ _id: 1 })).toMatchObject({ v: 2, e: { a: { u: 6 } } });
    // Many concurrent writers of one fact, each with its own version: exactly one wins each version.
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => facts.updateOne({ _id: 1, v: 2 }, { $inc: { v: 1 } })),
    );
    const matched = results.filter((r) => r.status === 'fulfilled' && r.value.matchedCount === 1);
    expect(matched).toHaveLength(1);
    expect(await facts.findOne({ _id: 1 })).toMatchObject({ v: 3 });
  });
});

describe('unique indexes on an H2 file, over many pages and a restart', () => {
  it('finds every key and refuses every duplicate, before and after reopening the file', async () => {
    const launched = new LaunchedDb(true);
    const key = (i: number) => ({ org: i % 7, slug: `s${(i * 7919) % 3000}` });
    const check = async () => {
      const items = launched.client.db('many').collection<Item>('items');
      let found = 0;
      for (let i = 0; i < 3000; i += 1) if (await items.findOne(key(i))) found += 1;
      let refused = 0;
      for (let i = 0; i < 3000; i += 97) {
        await items.insertOne({ _id: `dup${i}-${Date.now()}`, ...key(i) }).catch(() => (refused += 1));
      }
      return { found, refused };
    };
    try {
      await launched.start();
      const items = launched.client.db('many').collection<Item>('items');
      await items.createIndex({ org: 1, slug: 1 }, { unique: true });
      for (let i = 0; i < 3000; i += 500) {
        await items.insertMany(Array.from({ length: 500 }, (_, j) => ({ _id: `id${i + j}`, ...key(i + j) })));
      }
      expect(await check()).toEqual({ found: 3000, refused: Math.ceil(3000 / 97) });
      await launched.restart();
      expect(await check()).toEqual({ found: 3000, refused: Math.ceil(3000 / 97) });
    } finally {
      await launched.stop();
    }
  }, 120_000);
});

/**
 * The launcher writes unique-index keys on file in its own encoding (H2 wrote them with Java serialization); a key
 * read back must be the key written, of the same types, or lookups and the refusal of duplicates go wrong.
 */
describe('unique index keys of every type on an H2 file, after a restart', () => {
  it('finds each document by its key and refuses a duplicate of each', async () => {
    const keys: unknown[] = [
      'text',
      '',
      new Int32(-7),
      new Double(2.5),
      new Long('1152921504606846977'), // 2^60 + 1: kept as a long, not a double
      new ObjectId('0123456789abcdef01234567'),
      new Date('2026-12-04T10:00:00.123Z'),
      null,
      true,
      { nested: 'document', n: 1 },
      new Binary(Buffer.from([0, 1, 2, 255])),
      new UUID('0d6a3c2e-7f4b-4c1d-9a8e-5b6c7d8e9f00'),
      Decimal128.fromString('12.345'),
      new Timestamp({ t: 1_700_000_000, i: 3 }),
      new MinKey(),
      new MaxKey(),
    ];
    const launched = new LaunchedDb(true);
    try {
      await launched.start();
      const typed = () => launched.client.db('typed_keys').collection<{ _id: number; k: unknown }>('docs');
      await typed().createIndex({ k: 1 }, { unique: true });
      await typed().insertMany(keys.map((k, i) => ({ _id: i, k })));
      await launched.restart();
      for (const [i, k] of keys.entries()) {
        expect(await typed().findOne({ k }, { projection: { _id: 1 } })).toEqual({ _id: i });
        await expect(typed().insertOne({ _id: 1000 + i, k })).rejects.toMatchObject({ code: 11000 });
      }
    } finally {
      await launched.stop();
    }
  }, 60_000);
});
