import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Double, MongoClient, type Collection, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedDb, type EmbeddedDb } from './embedded-db.js';

/**
 * The launcher builds two classes of mongo-java-server from patched sources (`embedded-db/patches/`): its path
 * helpers (the positional checks only on a path with a `$`, split and join without regular expressions) and its
 * update (the old document kept by a shallow copy, a change known from one comparison). What updates answer and
 * store must be what the library answered before, in memory and on an H2 file, also after a restart.
 */
describe.each([
  ['in memory', false],
  ['on an H2 file', true],
])('updates on the embedded database, %s', (_name, onFile) => {
  let dir: string | null = null;
  let db: EmbeddedDb;
  let client: MongoClient;
  let docs: Collection;

  const start = async () => {
    db = await startEmbeddedDb(dir ? { file: path.join(dir, 'data.mv') } : {});
    client = await MongoClient.connect(db.uri);
    docs = client.db('updates').collection('docs');
  };
  beforeAll(async () => {
    if (onFile) dir = mkdtempSync(path.join(tmpdir(), 'wisp-updates-'));
    await start();
    await docs.createIndex({ key: 1 }, { unique: true });
    await docs.createIndex({ 'meta.tag': 1 });
  });
  afterAll(async () => {
    await client.close();
    await db.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('increments nested counters five levels deep, creating them on the first', async () => {
    const inc = { 's.q37.api.n.answers': 1, 's.q37.api.n.promptTokens': 180, 's.q37.api.lat.b20': 1, rev: 1 };
    const first = await docs.updateOne({ key: 'day' }, { $inc: inc }, { upsert: true });
    expect(first.upsertedCount).toBe(1);
    const second = await docs.updateOne({ key: 'day' }, { $inc: inc });
    expect([second.matchedCount, second.modifiedCount]).toEqual([1, 1]);
    expect(await docs.findOne({ key: 'day' }, { projection: { _id: 0 } })).toEqual({
      key: 'day',
      s: { q37: { api: { n: { answers: 2, promptTokens: 360 }, lat: { b20: 2 } } } },
      rev: 2,
    });
  });

  it('counts an update that changes nothing as matched, not modified', async () => {
    await docs.insertOne({ key: 'same', a: { b: { c: 1 } } });
    const result = await docs.updateOne({ key: 'same' }, { $set: { 'a.b.c': 1 } });
    expect([result.matchedCount, result.modifiedCount]).toEqual([1, 0]);
    // The library compares numbers by value: a change of type alone is stored but not counted as a modification.
    const retyped = await docs.updateOne({ key: 'same' }, { $set: { 'a.b.c': new Double(1) } });
    expect([retyped.matchedCount, retyped.modifiedCount]).toEqual([1, 0]);
    const changed = await docs.updateOne({ key: 'same' }, { $set: { 'a.b.c': 2 } });
    expect([changed.matchedCount, changed.modifiedCount]).toEqual([1, 1]);
  });

  it('returns the document as it was before a nested update, and stores the new one', async () => {
    await docs.insertOne({ key: 'before', a: { b: { c: 1, d: [1, 2] } }, other: { kept: true } });
    // Typed as a plain document: the driver's types refuse `$push` on a dotted path of an untyped collection.
    const update: Document = { $inc: { 'a.b.c': 1 }, $push: { 'a.b.d': 3 } };
    const before = await docs.findOneAndUpdate({ key: 'before' }, update, {
      returnDocument: 'before',
      projection: { _id: 0 },
    });
    expect(before).toEqual({ key: 'before', a: { b: { c: 1, d: [1, 2] } }, other: { kept: true } });
    expect(await docs.findOne({ key: 'before' }, { projection: { _id: 0 } })).toEqual({
      key: 'before',
      a: { b: { c: 2, d: [1, 2, 3] } },
      other: { kept: true },
    });
  });

  it('moves a document in a non-unique index on a nested field when the field changes', async () => {
    await docs.insertOne({ key: 'tagged', meta: { tag: 'old' } });
    await docs.updateOne({ key: 'tagged' }, { $set: { 'meta.tag': 'new' } });
    expect(await docs.countDocuments({ 'meta.tag': 'old' })).toBe(0);
    expect((await docs.findOne({ 'meta.tag': 'new' }))?.key).toBe('tagged');
  });

  it('still updates through the positional operator and refuses two of them in one path', async () => {
    await docs.insertOne({
      key: 'items',
      items: [
        { k: 'a', v: 1, sub: [{ x: 1 }] },
        { k: 'b', v: 1, sub: [] },
      ],
    });
    await docs.updateOne({ key: 'items', 'items.k': 'b' }, { $inc: { 'items.$.v': 5 } });
    expect((await docs.findOne({ key: 'items' }))?.items).toEqual([
      { k: 'a', v: 1, sub: [{ x: 1 }] },
      { k: 'b', v: 6, sub: [] },
    ]);
    await expect(docs.updateOne({ key: 'items', 'items.k': 'a' }, { $set: { 'items.$.sub.$.x': 2 } })).rejects.toThrow(
      /Too many positional/,
    );
    await expect(docs.updateOne({ key: 'items' }, { $set: { 'items.$.v': 2 } })).rejects.toThrow(
      /positional operator did not find the match/,
    );
  });

  it('keeps what the updates stored through a restart', async () => {
    if (!onFile) return;
    await client.close();
    await db.stop();
    await start();
    expect(await docs.findOne({ key: 'day' }, { projection: { _id: 0 } })).toEqual({
      key: 'day',
      s: { q37: { api: { n: { answers: 2, promptTokens: 360 }, lat: { b20: 2 } } } },
      rev: 2,
    });
    expect((await docs.findOne({ 'meta.tag': 'new' }))?.key).toBe('tagged');
    expect((await docs.findOne({ key: 'items' }))?.items[1]).toEqual({ k: 'b', v: 6, sub: [] });
  });
});
