import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestOrg } from '../test/test-app.js';
import { standardWebhooks } from './signatures.js';
import { startChannelHarness, type ChannelHarness } from './test/channel-harness.js';

interface ChannelData {
  id: string;
  name: string;
  type: string;
  status: string;
}

const TOKEN = '222222:AAOwnerTokenForCrudTests';

describe('channels: management and tenant isolation', () => {
  let h: ChannelHarness;
  let other: TestOrg;
  let channel: ChannelData;

  beforeAll(async () => {
    h = await startChannelHarness();
    h.fakes.acceptToken(TOKEN);
    other = await h.t.createOrg('Other organization');
    const created = await h.org.api.post<ChannelData>(`/api/v1/chatbots/${h.botId}/channels`, {
      type: 'telegram',
      name: 'Acme on Telegram',
      credentials: { botToken: TOKEN },
    });
    channel = created.body.data;
  });
  afterAll(() => h.stop());

  it('lists, renames and deletes a channel; a deleted one unregisters its webhook and is gone', async () => {
    const listed = await h.org.api.get<ChannelData[]>(`/api/v1/chatbots/${h.botId}/channels`);
    expect(listed.body.data.map((c) => c.id)).toEqual([channel.id]);
    expect(listed.body.meta?.total).toBe(1);
    const viaBots = await h.org.api.get<ChannelData[]>(`/api/v1/bots/${h.botId}/channels`);
    expect(viaBots.body.data.map((c) => c.id)).toEqual([channel.id]);

    const renamed = await h.org.api.patch<ChannelData>(`/api/v1/channels/${channel.id}`, { name: 'Telegram support' });
    expect(renamed.body.data.name).toBe('Telegram support');

    const spare = await h.org.api.post<ChannelData>(`/api/v1/chatbots/${h.botId}/channels`, {
      type: 'telegram',
      credentials: { botToken: TOKEN },
    });
    expect((await h.org.api.delete(`/api/v1/channels/${spare.body.data.id}`)).status).toBe(200);
    expect(h.fakes.callsOf('deleteWebhook')).toHaveLength(1);
    expect((await h.org.api.get(`/api/v1/channels/${spare.body.data.id}`)).status).toBe(404);
  });

  it('checks new credentials with the platform before replacing the old ones', async () => {
    const refused = await h.org.api.patch(`/api/v1/channels/${channel.id}`, {
      credentials: { botToken: '333:unknown' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error?.message).toContain('Telegram rejected the credentials');
    const invalid = await h.org.api.patch(`/api/v1/channels/${channel.id}`, { credentials: { botToken: 'nope' } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error?.message).toContain('botToken');
    expect((await h.org.api.post(`/api/v1/channels/${channel.id}/reconnect`)).status).toBe(200);
  });

  it('refuses a body that does not fit the platform, naming the field', async () => {
    const res = await h.org.api.post(`/api/v1/chatbots/${h.botId}/channels`, {
      type: 'slack',
      credentials: { botToken: 'xoxb-1' },
    });
    expect(res.status).toBe(422);
    expect(JSON.stringify(res.body.error?.details)).toContain('signingSecret');
    const unknownType = await h.org.api.post(`/api/v1/chatbots/${h.botId}/channels`, { type: 'fax', credentials: {} });
    expect(unknownType.status).toBe(422);
  });

  it("never shows or changes another organization's channels", async () => {
    const path = `/api/v1/channels/${channel.id}`;
    expect((await other.api.get(path)).status).toBe(404);
    expect((await other.api.patch(path, { name: 'stolen' })).status).toBe(404);
    expect((await other.api.post(`${path}/reconnect`)).status).toBe(404);
    expect((await other.api.delete(path)).status).toBe(404);
    expect((await other.api.get(`/api/v1/chatbots/${h.botId}/channels`)).status).toBe(404);
    const create = await other.api.post(`/api/v1/chatbots/${h.botId}/channels`, {
      type: 'telegram',
      credentials: { botToken: TOKEN },
    });
    expect(create.status).toBe(404);
    expect((await h.org.api.get<ChannelData>(path)).body.data.name).not.toBe('stolen');
  });

  it('needs channels:read to look and channels:write to change (admin implies both)', async () => {
    const reader = await h.t.clientWithScopes(h.org, ['channels:read']);
    const chatOnly = await h.t.clientWithScopes(h.org, ['chat']);
    expect((await reader.get(`/api/v1/channels/${channel.id}`)).status).toBe(200);
    expect((await reader.patch(`/api/v1/channels/${channel.id}`, { name: 'x' })).status).toBe(403);
    expect((await chatOnly.get(`/api/v1/chatbots/${h.botId}/channels`)).status).toBe(403);
    expect((await h.t.anonymous.get(`/api/v1/channels/${channel.id}`)).status).toBe(401);
  });

  it("refuses a callback URL on the server's own network; signed deliveries are not limited per IP", async () => {
    const strict = await startTestApp({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '2' } });
    try {
      const owner = await strict.createOrg();
      const bot = await owner.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Strict' });
      const res = await owner.api.post(`/api/v1/chatbots/${bot.body.data.id}/channels`, {
        type: 'webhook',
        callbackUrl: 'http://127.0.0.1:9/answers',
      });
      expect(res.status).toBe(422);
      expect(res.body.error?.message).toContain('callbackUrl');

      // Platforms deliver from a few shared addresses: the public per-IP limit (2 a minute here) is not theirs.
      const created = await owner.api.post<{ id: string; signingSecret: string }>(
        `/api/v1/chatbots/${bot.body.data.id}/channels`,
        { type: 'webhook' },
      );
      const { id, signingSecret } = created.body.data;
      for (let i = 0; i < 4; i += 1) {
        const body = JSON.stringify({ text: `message ${i}`, user: { id: 'u1' } });
        const timestamp = String(Math.floor(Date.now() / 1000));
        const delivery = await strict.anonymous.request('POST', `/api/v1/channels/${id}/events`, body, {
          'webhook-id': `msg_${i}`,
          'webhook-timestamp': timestamp,
          'webhook-signature': standardWebhooks.sign(signingSecret, `msg_${i}`, timestamp, body),
        });
        expect(delivery.status).toBe(200);
      }
      const statuses = [];
      for (let i = 0; i < 3; i += 1)
        statuses.push((await strict.anonymous.get(`/api/v1/channels/${id}/events?hub.mode=subscribe`)).status);
      expect(statuses).toContain(429);
    } finally {
      await strict.stop();
    }
  });

  it('answers 404 on the inbound URL of an unknown channel', async () => {
    const res = await h.deliver('0123456789abcdef01234567', '{}', { 'content-type': 'application/json' });
    expect(res.status).toBe(404);
  });

  it("goes with its bot: deleting the bot deletes the bot's channels", async () => {
    const bot = await h.org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Short-lived' });
    const created = await h.org.api.post<ChannelData>(`/api/v1/chatbots/${bot.body.data.id}/channels`, {
      type: 'webhook',
    });
    expect(created.status).toBe(201);
    expect((await h.org.api.delete(`/api/v1/chatbots/${bot.body.data.id}`)).status).toBe(200);
    expect((await h.org.api.get(`/api/v1/channels/${created.body.data.id}`)).status).toBe(404);
  });
});
