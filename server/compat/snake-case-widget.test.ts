import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { replay } from './test/replay.js';

describe('the snake_case dialect: widget config and settings', () => {
  let t: TestApp;
  let org: TestOrg;
  let botId: string;

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('Widget dialect org');
    botId = (await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Only bot' })).body.data.id;
  });
  afterAll(() => t.stop());

  it('the widget-config example answers the appearance and quick prompts in snake_case', async () => {
    const res = await replay(t.url, org.adminKey, { method: 'GET', path: '/api/widget-config' });
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      success: true,
      data: {
        bot_id: botId,
        appearance: { primary_color: expect.any(String), position: 'bottom-right' },
        welcome_message: expect.any(String),
        quick_prompts: [],
      },
    });
  });

  it('the update example changes only the given settings, and the read example shows them', async () => {
    const put = await replay(t.url, org.adminKey, {
      method: 'PUT',
      path: '/api/widget-settings',
      headers: { Authorization: 'Bearer YOUR_API_KEY', 'Content-Type': 'application/json' },
      body: `{
"primary_color": "#4F46E5",
"welcome_message": "Hi! How can I help?",
"position": "bottom-right"
}`,
    });
    expect(put.status, put.text).toBe(200);
    expect(put.json).toMatchObject({
      success: true,
      data: {
        chatbot_id: botId,
        version: 2,
        settings: { primary_color: '#4F46E5', welcome_message: 'Hi! How can I help?', show_citations: true },
      },
    });
    const get = await replay(t.url, org.adminKey, { method: 'GET', path: '/api/widget-settings' });
    expect(get.status).toBe(200);
    expect(get.json).toMatchObject({ data: { version: 2, settings: { welcome_message: 'Hi! How can I help?' } } });
    const native = await org.api.get<{ settings: { primaryColor: string } }>(
      `/api/v1/chatbots/${botId}/widget-settings`,
    );
    expect(native.body.data.settings.primaryColor).toBe('#4F46E5');
  });

  it('takes nested settings in snake_case and refuses camelCase or unknown names', async () => {
    const res = await org.api.put('/api/widget-settings', { lead_capture: { enabled: false, after_messages: 3 } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data).toMatchObject({ settings: { lead_capture: { after_messages: 3 } } });
    const camel = await org.api.put('/api/widget-settings', { primaryColor: '#000000' });
    expect(camel.status).toBe(422);
    expect(camel.body.error?.message).toContain('primaryColor');
    const nested = await org.api.put('/api/widget-settings', { lead_capture: { afterMessages: 3 } });
    expect(nested.status).toBe(422);
    expect(nested.body.error?.message).toContain('afterMessages');
  });

  it('with several bots, asks for chatbot_id', async () => {
    await org.api.post('/api/v1/chatbots', { name: 'Second bot', slug: 'second' });
    const res = await org.api.get('/api/widget-settings');
    expect(res.status).toBe(422);
    expect(res.body.error?.message).toContain('chatbot_id');
    const named = await org.api.get('/api/widget-config?chatbot_id=second');
    expect(named.body.data).toMatchObject({ slug: 'second' });
    const reader = await t.clientWithScopes(org, ['knowledge:read']);
    expect((await reader.put('/api/widget-settings?chatbot_id=second', { position: 'bottom-left' })).status).toBe(403);
  });
});
