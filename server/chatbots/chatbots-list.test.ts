import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatbotDto } from '../../shared/schemas/chatbots.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

describe('listing chatbots', () => {
  let t: TestApp;
  let org: TestOrg;
  const TOTAL = 25;

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('Many bots');
    // Several bots share one creation time, so the order must fall back to the id.
    const sameInstant = new Date('2025-01-01T00:00:00.000Z');
    const docs = Array.from({ length: TOTAL }, (_, i) => ({
      _id: new Types.ObjectId(),
      organizationId: new Types.ObjectId(org.id),
      name: `Bot ${i}`,
      slug: `bot-${i}`,
      instructions: '',
      modelSettings: { integrationId: null, model: null, temperature: 0.3, maxTokens: 800 },
      allowedOrigins: [],
      status: 'active',
      identitySecretEncrypted: 'unused',
      createdAt: i < 10 ? sameInstant : new Date(sameInstant.getTime() + i * 1000),
      updatedAt: sameInstant,
    }));
    // Inserted in shuffled order so the store's natural order cannot pass for the sort.
    const shuffled = [...docs].sort((a, b) => (a.slug < b.slug ? 1 : -1));
    await t.app.models.Chatbot.collection.insertMany(shuffled);
    await t.createOrg('Someone else').then((other) => other.api.post('/api/v1/chatbots', { name: 'Not mine' }));
  });
  afterAll(() => t.stop());

  it('defaults to page 1 of 20 and reports the total in meta', async () => {
    const res = await org.api.get<ChatbotDto[]>('/api/v1/chatbots');
    expect(res.status).toBe(200);
    expect(res.body.meta).toEqual({ page: 1, perPage: 20, total: TOTAL });
    expect(res.body.data).toHaveLength(20);
  });

  it('orders newest first with ties broken by id, stable across pages', async () => {
    const pages: ChatbotDto[] = [];
    for (let page = 1; page <= 3; page += 1) {
      const res = await org.api.get<ChatbotDto[]>(`/api/v1/chatbots?page=${page}&perPage=10`);
      expect(res.body.meta).toEqual({ page, perPage: 10, total: TOTAL });
      pages.push(...res.body.data);
    }
    expect(pages).toHaveLength(TOTAL);
    expect(new Set(pages.map((b) => b.id)).size).toBe(TOTAL);
    const expected = [...pages].sort((a, b) =>
      a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? 1 : -1) : a.id < b.id ? 1 : -1,
    );
    expect(pages.map((b) => b.id)).toEqual(expected.map((b) => b.id));
    const again = await org.api.get<ChatbotDto[]>('/api/v1/chatbots?page=3&perPage=10');
    expect(again.body.data.map((b) => b.id)).toEqual(pages.slice(20).map((b) => b.id));
  });

  it('answers an empty page past the end, with the total', async () => {
    const res = await org.api.get<ChatbotDto[]>('/api/v1/chatbots?page=9&perPage=10');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([]);
    expect(res.body.meta).toEqual({ page: 9, perPage: 10, total: TOTAL });
  });

  it('accepts perPage=100', async () => {
    const res = await org.api.get<ChatbotDto[]>('/api/v1/chatbots?perPage=100');
    expect(res.body.data).toHaveLength(TOTAL);
  });

  it.each([
    ['perPage=101', 'perPage'],
    ['perPage=0', 'perPage'],
    ['page=0', 'page'],
    ['page=-1', 'page'],
    ['page=abc', 'page'],
    ['perPage=2.5', 'perPage'],
  ])('when the query is %s, answers 422 naming the field', async (query, field) => {
    const res = await org.api.get(`/api/v1/chatbots?${query}`);
    expect(res.status).toBe(422);
    expect(res.body.error?.name).toBe('ValidationError');
    expect((res.body.error?.details as { fields: Array<{ path: string }> }).fields.map((f) => f.path)).toEqual([field]);
  });
});
