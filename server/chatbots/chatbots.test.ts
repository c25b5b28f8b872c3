import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

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

  it('creates a bot with a slug from its name and shows the identity secret once', async () => {
    const created = await orgA.api.post<{ id: string; slug: string; identitySecret: string }>('/api/v1/chatbots', {
      name: 'Acme Help Desk!',
    });
    expect(created.status).toBe(201);
    expect(created.body.data.slug).toBe('acme-help-desk');
    expect(created.body.data.identitySecret).toMatch(/.{32,}/);
    const fetched = await orgA.api.get<Record<string, unknown>>(`/api/v1/chatbots/acme-help-desk`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.data.id).toBe(created.body.data.id);
    expect(fetched.body.data).not.toHaveProperty('identitySecret');
  });

  it('answers 404 when another organization reads, changes or deletes a bot', async () => {
    const created = await orgA.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Private bot' });
    const id = created.body.data.id;
    for (const res of [
      await orgB.api.get(`/api/v1/chatbots/${id}`),
      await orgB.api.patch(`/api/v1/chatbots/${id}`, { name: 'Stolen' }),
      await orgB.api.delete(`/api/v1/chatbots/${id}`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error?.name).toBe('NotFoundError');
    }
    expect((await orgA.api.get<{ name: string }>(`/api/v1/chatbots/${id}`)).body.data.name).toBe('Private bot');
  });
});
