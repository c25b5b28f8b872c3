import { Decimal128, Long, ObjectId, type Db, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LaunchedDb } from './test/launched-db.js';

/**
 * A collection's size in `collStats` and `dbStats` is the sum of its documents' sizes. In memory the launcher
 * adds it up when asked rather than encoding each document twice on every update (see bench/README.md, "The
 * database's JVM per turn"); these check the figure stays the sum of the stored documents' sizes through
 * inserts, updates that grow and shrink documents, replacements, upserts and deletes (compared with a collection
 * that holds the same documents and was only inserted into).
 */
describe.each([
  ['in memory', false],
  ['on an H2 file', true],
])('collection sizes (%s)', (_label, onFile) => {
  const launched = new LaunchedDb(onFile);
  let database: Db;

  beforeAll(async () => {
    await launched.start();
    database = launched.client.db('collection_sizes');
  });
  afterAll(() => launched.stop());

  /** The size the engine reports for a collection freshly filled with the same documents. */
  async function storedSize(name: string): Promise<number> {
    const documents = await database.collection(name).find({}, { promoteValues: false }).toArray();
    const copy = database.collection(`${name}_copy`);
    await copy.deleteMany({});
    await copy.insertMany(documents);
    return statsSize(`${name}_copy`);
  }

  async function statsSize(name: string): Promise<number> {
    const stats = await database.command({ collStats: name });
    return Number(stats.size);
  }

  it('after every kind of write, reports the size of a collection that only had the same documents inserted', async () => {
    const items = database.collection<Document>('items');
    await items.createIndex({ key: 1 }, { unique: true });
    await items.createIndex({ group: 1, at: 1 });
    await items.insertMany(
      Array.from({ length: 40 }, (_, i) => ({
        key: `k${i}`,
        group: i % 4,
        at: new Date(1_700_000_000_000 + i),
        counts: { a: i, b: Long.fromNumber(i * 1000), c: i / 3 },
        tags: ['x', `t${i}`],
        price: Decimal128.fromString(`${i}.25`),
        ref: new ObjectId(),
      })),
    );
    expect(await statsSize('items')).toBe(await storedSize('items'));

    await items.updateOne({ key: 'k1' }, { $inc: { 'counts.a': 5, 'visitors.v1': 1, 'visitors.v2': 1 } });
    await items.updateMany({ group: 2 }, { $set: { note: 'a longer note than before'.repeat(4) } });
    await items.updateOne({ key: 'k3' }, { $unset: { counts: '', tags: '' } });
    await items.updateOne({ key: 'k4' }, { $set: { key: 'k4' } });
    await items.replaceOne({ key: 'k5' }, { key: 'k5', group: 1, at: new Date(0) });
    await items.updateOne({ key: 'k-new' }, { $set: { group: 9 }, $inc: { n: 1 } }, { upsert: true });
    await items.findOneAndUpdate({ key: 'k6' }, { $set: { 'tags.2': 'added' } });
    expect(await statsSize('items')).toBe(await storedSize('items'));

    await items.deleteMany({ group: 3 });
    await items.deleteOne({ key: 'k0' });
    await items.insertMany(Array.from({ length: 5 }, (_, i) => ({ key: `again${i}`, group: 0, at: new Date() })));
    expect(await statsSize('items')).toBe(await storedSize('items'));

    const stats = await database.command({ dbStats: 1 });
    expect(Number(stats.dataSize)).toBe(2 * (await storedSize('items')));
    await expect(items.updateOne({ key: 'k9' }, { $set: { key: 'k10' } })).rejects.toThrow(/duplicate key/);
    expect(await statsSize('items')).toBe(await storedSize('items'));
  });
});
