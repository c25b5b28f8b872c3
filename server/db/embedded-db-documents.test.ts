import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BSON, MongoClient, ObjectId } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedDb, type EmbeddedDb } from './embedded-db.js';
import { sampleDocuments } from './fixtures/sample-documents.js';

const OLD_FILE = fileURLToPath(new URL('./fixtures/h2-documents-before-compact-encoding.mv', import.meta.url));

/** Every stored document of the collection as the database sends it, byte for byte, in `_id` order. */
async function storedBytes(db: EmbeddedDb, database: string): Promise<Buffer[]> {
  const client = await MongoClient.connect(db.uri);
  try {
    const raw = await client
      .db(database)
      .collection('docs')
      .find({}, { raw: true, sort: { _id: 1 } })
      .toArray();
    return raw.map((document) => Buffer.from(document as unknown as Uint8Array));
  } finally {
    await client.close();
  }
}

const asBytes = (documents: Record<string, unknown>[]) =>
  documents.map((document) => Buffer.from(BSON.serialize(document)));

/**
 * On an H2 file the launcher stores documents in its own encoding (H2's default Java-serialized them). What is
 * read back after a restart, from the file rather than from memory, must be what was written, byte for byte in
 * BSON, and files written before the change must still read.
 */
describe('documents on an H2 file', () => {
  let dir: string;
  let db: EmbeddedDb | undefined;
  afterEach(async () => {
    await db?.stop();
    db = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every BSON type exactly through a restart, also after updates', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'wisp-documents-'));
    const file = path.join(dir, 'data.mv');
    const documents = sampleDocuments(60);
    db = await startEmbeddedDb({ file });
    const client = await MongoClient.connect(db.uri);
    const docs = client.db('round_trip').collection('docs');
    await docs.insertMany(documents.slice(0, 30));
    for (const document of documents.slice(30)) await docs.insertOne(document);
    await client.close();
    expect(await storedBytes(db, 'round_trip')).toEqual(asBytes(documents));

    await db.stop();
    db = await startEmbeddedDb({ file });
    expect(await storedBytes(db, 'round_trip')).toEqual(asBytes(documents));

    const again = await MongoClient.connect(db.uri);
    const first = documents[0]!;
    await again
      .db('round_trip')
      .collection('docs')
      .updateOne({ _id: first._id }, { $set: { 'nested.list': [1] } });
    await again.close();
    await db.stop();
    db = await startEmbeddedDb({ file });
    const expected = asBytes([{ ...first, nested: { ...(first.nested as object), list: [1] } }, ...documents.slice(1)]);
    expect(await storedBytes(db, 'round_trip')).toEqual(expected);
  }, 60_000);

  it('reads a file written before the change, and its documents once rewritten, after a restart', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'wisp-documents-'));
    const file = path.join(dir, 'data.mv');
    copyFileSync(OLD_FILE, file);
    const documents = sampleDocuments(40);
    db = await startEmbeddedDb({ file });
    expect(await storedBytes(db, 'fixture')).toEqual(asBytes(documents));

    // New documents and an update share pages with documents in the old format.
    const client = await MongoClient.connect(db.uri);
    const docs = client.db('fixture').collection('docs');
    const added = sampleDocuments(10, 40);
    await docs.insertMany(added);
    await docs.updateOne({ _id: documents[5]!._id }, { $set: { empty: 'now set' } });
    await expect(
      docs.insertOne({ ...sampleDocuments(1, 7)[0]!, _id: new ObjectId('f'.repeat(24)) }),
    ).rejects.toMatchObject({
      code: 11000,
    });
    await client.close();
    await db.stop();

    db = await startEmbeddedDb({ file });
    const expected = [...documents, ...added];
    expected[5] = { ...expected[5]!, empty: 'now set' };
    expect(await storedBytes(db, 'fixture')).toEqual(asBytes(expected));
    // Through the unique index (its entries from before and after) to the documents, by their ids.
    const reopened = await MongoClient.connect(db.uri);
    const byText = reopened.db('fixture').collection('docs');
    for (const document of [documents[0]!, documents[39]!, added[0]!, added[9]!]) {
      expect(await byText.findOne({ text: document.text }, { projection: { _id: 1 } })).toEqual({ _id: document._id });
      expect(await byText.findOne({ _id: document._id }, { projection: { text: 1 } })).toMatchObject({
        text: document.text,
      });
    }
    await reopened.close();
  }, 60_000);
  it('keeps every acknowledged document, exactly, after kill -9 of the database mid-writes', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'wisp-documents-'));
    const file = path.join(dir, 'data.mv');
    const documents = sampleDocuments(400);
    const killed = await startEmbeddedDb({ file });
    const client = await MongoClient.connect(killed.uri, { serverSelectionTimeoutMS: 2_000, retryWrites: false });
    const docs = client.db('killed').collection('docs');
    let acknowledged = 0;
    let killAfter: () => void = () => undefined;
    const halfway = new Promise<void>((resolve) => (killAfter = resolve));
    const writing = (async () => {
      for (const document of documents) {
        try {
          await docs.insertOne(document);
        } catch {
          return;
        }
        acknowledged += 1;
        if (acknowledged === 100) killAfter();
      }
    })();
    await halfway;
    process.kill(killed.pid!, 'SIGKILL');
    await writing;
    await client.close(true);
    await killed.stop();

    db = await startEmbeddedDb({ file });
    const stored = await storedBytes(db, 'killed');
    expect(acknowledged).toBeLessThan(documents.length);
    // The write in flight at the kill may or may not have been kept; every acknowledged one was.
    expect(stored.length).toBeGreaterThanOrEqual(acknowledged);
    expect(stored.length).toBeLessThanOrEqual(acknowledged + 1);
    expect(stored).toEqual(asBytes(documents.slice(0, stored.length)));
  }, 60_000);
});
