import { randomUUID } from 'node:crypto';
import { Types, type Model } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatbotDto } from '../../shared/schemas/chatbots.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

/** Values for the unique-index fields of `model` besides `chatbotId`, so raw inserts never collide. */
function uniqueFiller(model: Model<unknown>): Record<string, string> {
  const filler: Record<string, string> = {};
  for (const [fields, options] of model.schema.indexes()) {
    if (!options.unique) continue;
    for (const field of Object.keys(fields)) {
      if (field !== 'chatbotId' && !field.includes('.')) filler[field] = randomUUID();
    }
  }
  return filler;
}

describe('chatbots API', () => {
  let t: TestApp;
  let orgA: TestOrg;
  let orgB: TestOrg;

  beforeAll(async () => {
    t = await startTestApp();
    orgA = await t.createOrg('Org A');
    orgB = await t.createOrg('Org B');
  });
  afterAll(() => t.stop());

  const create = (org: TestOrg, body: Record<string, unknown>) =>
    org.api.post<ChatbotDto & { identitySecret: string }>('/api/v1/chatbots', body);

  it('creates a bot with a slug from its name and shows the identity secret once', async () => {
    const created = await create(orgA, { name: 'Acme Help Desk!' });
    expect(created.status).toBe(201);
    expect(created.body.data.slug).toBe('acme-help-desk');
    expect(created.body.data.identitySecret).toMatch(/.{32,}/);
    const fetched = await orgA.api.get<Record<string, unknown>>(`/api/v1/chatbots/acme-help-desk`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.data.id).toBe(created.body.data.id);
    expect(fetched.body.data).not.toHaveProperty('identitySecret');
    expect(fetched.body.data).not.toHaveProperty('identitySecretEncrypted');
  });

  it('stores every documented field with defaults, and reads the bot by id or by slug', async () => {
    const created = await create(orgA, {
      name: 'Full bot',
      instructions: 'Answer briefly.',
      modelSettings: { model: 'gpt-4o-mini', temperature: 0.7, maxTokens: 500 },
      allowedOrigins: ['https://WWW.Example.com', 'http://localhost:5173'],
      status: 'disabled',
    });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({
      name: 'Full bot',
      slug: 'full-bot',
      instructions: 'Answer briefly.',
      modelSettings: { integrationId: null, model: 'gpt-4o-mini', temperature: 0.7, maxTokens: 500 },
      allowedOrigins: ['https://www.example.com', 'http://localhost:5173'],
      status: 'disabled',
    });
    const byId = await orgA.api.get<ChatbotDto>(`/api/v1/chatbots/${created.body.data.id}`);
    const bySlug = await orgA.api.get<ChatbotDto>('/api/v1/chatbots/FULL-BOT');
    expect(bySlug.body.data).toEqual(byId.body.data);
    const minimal = await create(orgA, { name: 'Minimal' });
    expect(minimal.body.data).toMatchObject({
      instructions: '',
      modelSettings: { integrationId: null, model: null, temperature: 0.3, maxTokens: 800 },
      allowedOrigins: [],
      status: 'active',
    });
  });

  it('makes generated slugs unique across organizations, so another organization gets a different one', async () => {
    const first = await create(orgA, { name: 'Sales Bot' });
    const second = await create(orgA, { name: 'sales  bot' });
    const accented = await create(orgA, { name: 'Crème Brûlée — FAQ' });
    const elsewhere = await create(orgB, { name: 'Sales Bot' });
    expect([first.body.data.slug, second.body.data.slug]).toEqual(['sales-bot', 'sales-bot-2']);
    expect(accented.body.data.slug).toBe('creme-brulee-faq');
    expect(elsewhere.body.data.slug).toBe('sales-bot-3');
  });

  it('when an explicit slug is taken in any organization, answers 409 on create and on edit', async () => {
    await create(orgA, { name: 'Taken', slug: 'taken-slug' });
    const clash = await create(orgA, { name: 'Other', slug: 'taken-slug' });
    expect(clash.status).toBe(409);
    expect(clash.body.error).toMatchObject({ name: 'ConflictError', message: expect.stringContaining('taken-slug') });
    const other = await create(orgA, { name: 'Editable' });
    const edit = await orgA.api.patch(`/api/v1/chatbots/${other.body.data.id}`, { slug: 'taken-slug' });
    expect(edit.status).toBe(409);
    const elsewhere = await create(orgB, { name: 'Hijack', slug: 'taken-slug' });
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body.error?.message).toMatch(/unique across the server/);
    const elsewhereEdit = await create(orgB, { name: 'Rename later' });
    const renamed = await orgB.api.patch(`/api/v1/chatbots/${elsewhereEdit.body.data.id}`, { slug: 'taken-slug' });
    expect(renamed.status).toBe(409);
    expect((await create(orgA, { name: 'Bad slug', slug: 'Not A Slug' })).status).toBe(422);
    expect((await create(orgA, { name: 'Id slug', slug: 'a'.repeat(24) })).status).toBe(422);
  });

  it('gives concurrent bots of the same name distinct slugs', async () => {
    const created = await Promise.all(
      Array.from({ length: 6 }, (_, i) => create(i % 2 ? orgA : orgB, { name: 'Rush Hour' })),
    );
    expect(created.map((res) => res.status)).toEqual(Array(6).fill(201));
    expect(new Set(created.map((res) => res.body.data.slug)).size).toBe(6);
  });

  it('edits any subset of fields, including the slug, keeping the rest', async () => {
    const bot = (await create(orgA, { name: 'Before', modelSettings: { model: 'm1', temperature: 1 } })).body.data;
    const res = await orgA.api.patch<ChatbotDto>(`/api/v1/chatbots/${bot.slug}`, {
      name: 'After',
      slug: 'after-edit',
      modelSettings: { maxTokens: 256 },
      allowedOrigins: ['https://shop.example'],
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      id: bot.id,
      name: 'After',
      slug: 'after-edit',
      modelSettings: { model: 'm1', temperature: 1, maxTokens: 256 },
      allowedOrigins: ['https://shop.example'],
    });
    expect((await orgA.api.get(`/api/v1/chatbots/${bot.slug}`)).status).toBe(404);
    expect((await orgA.api.get('/api/v1/chatbots/after-edit')).status).toBe(200);
    expect((await orgA.api.patch(`/api/v1/chatbots/${bot.id}`, { status: 'paused' })).status).toBe(422);
  });

  it('refuses a model connection of another organization with 422', async () => {
    const foreign = new Types.ObjectId().toString();
    const res = await create(orgA, { name: 'Foreign model', modelSettings: { integrationId: foreign } });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body.error?.details)).toContain('modelSettings.integrationId');
  });

  it('answers 404 when another organization reads, changes or deletes a bot', async () => {
    const created = await create(orgA, { name: 'Private bot' });
    const { id, slug } = created.body.data;
    for (const res of [
      await orgB.api.get(`/api/v1/chatbots/${id}`),
      await orgB.api.get(`/api/v1/chatbots/${slug}`),
      await orgB.api.patch(`/api/v1/chatbots/${id}`, { name: 'Stolen' }),
      await orgB.api.delete(`/api/v1/chatbots/${id}`),
      await orgB.api.post(`/api/v1/chatbots/${id}/identity-secret`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error?.name).toBe('NotFoundError');
    }
    const listed = await orgB.api.get<ChatbotDto[]>('/api/v1/chatbots?perPage=100');
    expect(listed.body.data.map((b) => b.id)).not.toContain(id);
    expect((await orgA.api.get<{ name: string }>(`/api/v1/chatbots/${id}`)).body.data.name).toBe('Private bot');
  });

  it('when the key is chat-only, answers 403 on POST /chatbots', async () => {
    const chatOnly = await t.clientWithScopes(orgA, ['chat']);
    const res = await chatOnly.post('/api/v1/chatbots', { name: 'Nope' });
    expect(res.status).toBe(403);
    expect(res.body.error?.message).toContain('"admin"');
  });

  it('deletes a bot with everything it owns, leaving other bots’ documents alone', async () => {
    const doomed = (await create(orgA, { name: 'Doomed' })).body.data;
    const kept = (await create(orgA, { name: 'Kept' })).body.data;
    // Every collection whose documents name a bot: each owner must delete its own.
    const owned = t.app.models.all.filter((model) => model.schema.path('chatbotId'));
    expect(owned.length).toBeGreaterThan(0);
    for (const model of owned) {
      for (const bot of [doomed, kept]) {
        await model.collection.insertOne({
          ...uniqueFiller(model),
          organizationId: new Types.ObjectId(orgA.id),
          chatbotId: new Types.ObjectId(bot.id),
        });
      }
    }
    const res = await orgA.api.delete(`/api/v1/chatbots/${doomed.slug}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ id: doomed.id, deleted: true });
    for (const model of owned) {
      expect(await model.collection.countDocuments({ chatbotId: new Types.ObjectId(doomed.id) }), model.modelName).toBe(
        0,
      );
      expect(await model.collection.countDocuments({ chatbotId: new Types.ObjectId(kept.id) }), model.modelName).toBe(
        1,
      );
    }
    expect((await orgA.api.get(`/api/v1/chatbots/${doomed.id}`)).status).toBe(404);
    expect((await orgA.api.delete(`/api/v1/chatbots/${doomed.id}`)).status).toBe(404);
  });

  it('rotates the identity secret, showing the new one once', async () => {
    const bot = (await create(orgA, { name: 'Rotating secret' })).body.data;
    const res = await orgA.api.post<{ id: string; identitySecret: string }>(
      `/api/v1/chatbots/${bot.id}/identity-secret`,
    );
    expect(res.status).toBe(201);
    expect(res.body.data.identitySecret).toMatch(/.{32,}/);
    expect(res.body.data.identitySecret).not.toBe(bot.identitySecret);
  });
});
