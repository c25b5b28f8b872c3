import { randomUUID } from 'node:crypto';
import { Types, type Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createModels, ensureCollections } from '../services.js';
import { connectMongo } from '../db/mongo.js';

describe('moving a database from per-organization slugs to server-wide slugs', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await connectMongo(inject('mongoUri'), { dbName: `wisp_test_${randomUUID().slice(0, 12)}` });
  });
  afterAll(async () => {
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
  });

  it('leaves a shared slug with the oldest bot, renames the others, and builds the unique index', async () => {
    // The collection as an older version left it: unique per organization, one slug in two organizations.
    const raw = connection.db!.collection('chatbots');
    await raw.createIndex({ organizationId: 1, slug: 1 }, { unique: true });
    const bot = (slug: string, createdAt: Date) => ({
      _id: new Types.ObjectId(),
      organizationId: new Types.ObjectId(),
      name: 'Support',
      slug,
      identitySecretEncrypted: 'x',
      createdAt,
      updatedAt: createdAt,
    });
    const first = bot('support', new Date('2026-01-01'));
    const second = bot('support', new Date('2026-02-01'));
    const alone = bot('alone', new Date('2026-03-01'));
    await raw.insertMany([second, first, alone]);

    const models = createModels(connection);
    await ensureCollections(models);

    const slugs = new Map((await raw.find().toArray()).map((doc) => [doc._id.toString(), doc.slug as string]));
    expect(slugs.get(first._id.toString())).toBe('support');
    expect(slugs.get(second._id.toString())).toMatch(/^support-[0-9a-f]{6}$/);
    expect(slugs.get(alone._id.toString())).toBe('alone');
    const indexes = await raw.indexes();
    expect(indexes.find((index) => index.name === 'slug_1')?.unique).toBe(true);
    expect(indexes.some((index) => index.name === 'organizationId_1_slug_1')).toBe(false);
    await expect(raw.insertOne(bot('support', new Date()))).rejects.toMatchObject({ code: 11000 });
  });
});
