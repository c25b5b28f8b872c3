import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatbotDto } from '../../shared/schemas/chatbots.js';
import type { WidgetSettingsChange, WidgetSettingsState } from '../../shared/schemas/widget-settings.js';
import type { TestApp, TestOrg } from '../test/test-app.js';
import { DEFAULT_WIDGET_SETTINGS } from './widget-config.js';
import type { SettingsUpdate } from './widget-settings.events.js';
import { createBot, settingsPath, startOwnerApp } from './widget-settings.fixtures.js';

interface FieldIssues {
  fields: Array<{ path: string; message: string }>;
}

const leadField = (overrides: Record<string, unknown> = {}) => ({
  key: 'email',
  label: 'Email',
  type: 'email',
  required: true,
  ...overrides,
});

describe('widget settings API', () => {
  let t: TestApp;
  let org: TestOrg;
  let other: TestOrg;

  beforeAll(async () => {
    ({ t, org, other } = await startOwnerApp());
  });
  afterAll(() => t.stop());

  const read = async (bot: { id: string }) => (await org.api.get<WidgetSettingsState>(settingsPath(bot))).body.data;

  it('answers the defaults at version 1 for a new bot, with its allowed origins', async () => {
    const bot = await createBot(org, { allowedOrigins: ['https://shop.example'] });
    const res = await org.api.get<WidgetSettingsState>(settingsPath(bot));
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      chatbotId: bot.id,
      version: 1,
      updatedAt: bot.createdAt,
      settings: { ...DEFAULT_WIDGET_SETTINGS, allowedOrigins: ['https://shop.example'] },
    });
    expect((await org.api.get(`/api/v1/chatbots/${bot.slug}/widget-settings`)).body.data).toEqual(res.body.data);
  });

  describe.each(['put', 'patch'] as const)('%s with a bad value', (method) => {
    it.each([
      ['a color that is not hex', { primaryColor: 'red' }, 'primaryColor'],
      ['a text color of four digits', { textColor: '#abcd' }, 'textColor'],
      ['a javascript: launcher icon URL', { launcherIconUrl: 'javascript:alert(1)' }, 'launcherIconUrl'],
      ['a data: avatar URL', { avatarUrl: 'data:image/png;base64,AAAA' }, 'avatarUrl'],
      ['7 quick prompts', { quickPrompts: ['1', '2', '3', '4', '5', '6', '7'] }, 'quickPrompts'],
      ['a quick prompt over 100 characters', { quickPrompts: ['x'.repeat(101)] }, 'quickPrompts.0'],
      ['a display name over 60 characters', { displayName: 'n'.repeat(61) }, 'displayName'],
      ['a welcome message over 500 characters', { welcomeMessage: 'w'.repeat(501) }, 'welcomeMessage'],
      ['a position that does not exist', { position: 'top-left' }, 'position'],
      ['a theme that does not exist', { theme: 'neon' }, 'theme'],
      ['an offset over 200', { offsetX: 201 }, 'offsetX'],
      ['a locale that is not one', { locale: 'english' }, 'locale'],
      ['a string override over 200 characters', { strings: { sendButton: 's'.repeat(201) } }, 'strings.sendButton'],
      ['a CSS variable outside the safe list', { cssVariables: { '--evil': '1px' } }, 'cssVariables.--evil', '--evil'],
      [
        'a CSS variable that is not a length',
        { cssVariables: { '--wisp-radius': 'url(x)' } },
        'cssVariables.--wisp-radius',
      ],
      ['an allowed origin with a path', { allowedOrigins: ['https://a.example/page'] }, 'allowedOrigins.0'],
      [
        'a lead field of an unknown type',
        { leadCapture: { fields: [leadField({ type: 'date' })] } },
        'leadCapture.fields.0.type',
      ],
      [
        'two lead fields with one key',
        { leadCapture: { fields: [leadField(), leadField({ type: 'text' })] } },
        'leadCapture.fields.1.key',
      ],
      [
        'two email fields',
        { leadCapture: { fields: [leadField(), leadField({ key: 'work' })] } },
        'leadCapture.fields.1.type',
      ],
      ['lead capture on without fields', { leadCapture: { enabled: true } }, 'leadCapture.fields'],
      ['an unknown lead capture setting', { leadCapture: { askWhen: 'now' } }, 'leadCapture.askWhen', 'askWhen'],
      ['an unknown field', { primaryColour: '#ffffff' }, 'primaryColour', 'primaryColour'],
    ])('answers 422 naming the field for %s, and changes nothing', async (_case, body, path, unknownKey?: string) => {
      const bot = await createBot(org);
      const res = await org.api[method](settingsPath(bot), body);
      expect(res.status).toBe(422);
      expect(res.body.error?.name).toBe('ValidationError');
      const fields = (res.body.error?.details as FieldIssues).fields;
      expect(fields.map((f) => f.path)).toContain(path);
      // An unknown key is reported at its own path and named in the message.
      if (unknownKey) expect(fields.find((f) => f.path === path)?.message).toContain(unknownKey);
      expect((await read(bot)).version).toBe(1);
    });
  });

  it('lists every failing field of one request', async () => {
    const bot = await createBot(org);
    const res = await org.api.patch(settingsPath(bot), {
      primaryColor: 'blue',
      avatarUrl: 'javascript:void(0)',
      quickPrompts: Array.from({ length: 7 }, (_, i) => `Prompt ${i}`),
      unknownSetting: true,
    });
    expect(res.status).toBe(422);
    const paths = (res.body.error?.details as FieldIssues).fields.map((f) => f.path).sort();
    expect(paths).toEqual(['avatarUrl', 'primaryColor', 'quickPrompts', 'unknownSetting']);
    expect(JSON.stringify(res.body.error?.details)).toContain('unknownSetting');
  });

  it('PATCH changes only the named settings, merging leadCapture one level', async () => {
    const bot = await createBot(org);
    await org.api.put(settingsPath(bot), {
      primaryColor: '#112233',
      quickPrompts: ['Pricing?', 'Opening hours?'],
      leadCapture: { fields: [leadField()], consentText: 'You may email me.', trigger: 'after_messages' },
    });
    const res = await org.api.patch<WidgetSettingsState>(settingsPath(bot), {
      welcomeMessage: 'Hello there',
      textColor: '#fafafa',
      leadCapture: { enabled: true, afterMessages: 3 },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.version).toBe(3);
    expect(res.body.data.settings).toMatchObject({
      primaryColor: '#112233',
      textColor: '#fafafa',
      welcomeMessage: 'Hello there',
      quickPrompts: ['Pricing?', 'Opening hours?'],
      leadCapture: {
        enabled: true,
        afterMessages: 3,
        trigger: 'after_messages',
        consentText: 'You may email me.',
        fields: [leadField()],
      },
    });
    expect(await read(bot)).toEqual(res.body.data);
  });

  it('PUT replaces everything: absent settings, allowed origins included, go back to their defaults', async () => {
    const bot = await createBot(org, { allowedOrigins: ['https://old.example'] });
    await org.api.patch(settingsPath(bot), {
      theme: 'dark',
      quickPrompts: ['Hi'],
      cssVariables: { '--wisp-radius': '4px' },
    });
    const res = await org.api.put<WidgetSettingsState>(settingsPath(bot), { primaryColor: '#000000' });
    expect(res.status).toBe(200);
    expect(res.body.data.settings).toEqual({ ...DEFAULT_WIDGET_SETTINGS, primaryColor: '#000000', allowedOrigins: [] });
    expect((await org.api.get<ChatbotDto>(`/api/v1/chatbots/${bot.id}`)).body.data.allowedOrigins).toEqual([]);
  });

  it("reads and writes allowed origins through the bot's own field", async () => {
    const bot = await createBot(org);
    await org.api.patch(settingsPath(bot), { allowedOrigins: ['https://WWW.Shop.example'] });
    expect((await org.api.get<ChatbotDto>(`/api/v1/chatbots/${bot.id}`)).body.data.allowedOrigins).toEqual([
      'https://www.shop.example',
    ]);
    await org.api.patch(`/api/v1/chatbots/${bot.id}`, { allowedOrigins: ['http://localhost:5173'] });
    expect((await read(bot)).settings.allowedOrigins).toEqual(['http://localhost:5173']);
  });

  it('counts one version per change and none for a request that changes nothing', async () => {
    const bot = await createBot(org);
    const first = await org.api.patch<WidgetSettingsState>(settingsPath(bot), { theme: 'dark' });
    const same = await org.api.patch<WidgetSettingsState>(settingsPath(bot), { theme: 'dark' });
    expect([first.body.data.version, same.body.data.version]).toEqual([2, 2]);
    expect(same.body.data.updatedAt).toBe(first.body.data.updatedAt);
    expect(Date.parse(first.body.data.updatedAt)).toBeGreaterThanOrEqual(Date.parse(bot.createdAt));
  });

  it('lands every one of concurrent PATCHes, each with its own version', async () => {
    const bot = await createBot(org);
    const prompts = Array.from({ length: 6 }, (_, i) => `Prompt ${i}`);
    const results = await Promise.all([
      org.api.patch<WidgetSettingsState>(settingsPath(bot), { theme: 'dark' }),
      org.api.patch<WidgetSettingsState>(settingsPath(bot), { primaryColor: '#123456' }),
      org.api.patch<WidgetSettingsState>(settingsPath(bot), { quickPrompts: prompts }),
      org.api.patch<WidgetSettingsState>(settingsPath(bot), { offsetX: 42 }),
      org.api.patch<WidgetSettingsState>(settingsPath(bot), { openOnLoad: true }),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.map((r) => r.body.data.version).sort()).toEqual([2, 3, 4, 5, 6]);
    const final = await read(bot);
    expect(final.version).toBe(6);
    expect(final.settings).toMatchObject({
      theme: 'dark',
      primaryColor: '#123456',
      quickPrompts: prompts,
      offsetX: 42,
      openOnLoad: true,
    });
  });

  it('lists the last changes newest first, with what changed and which key changed it, keeping 50', async () => {
    const bot = await createBot(org);
    const editor = await t.clientWithScopes(org, ['settings:write', 'knowledge:read']);
    for (let i = 0; i < 52; i += 1) await editor.patch(settingsPath(bot), { offsetY: i + 1 });
    await editor.put(settingsPath(bot), { theme: 'light', welcomeMessage: 'Welcome' });
    const res = await editor.get<WidgetSettingsChange[]>(`${settingsPath(bot)}/history?perPage=3`);
    expect(res.status).toBe(200);
    expect(res.body.meta).toEqual({ page: 1, perPage: 3, total: 50 });
    const [latest, previous] = res.body.data;
    expect(latest).toMatchObject({
      version: 54,
      operation: 'replace',
      changedFields: ['offsetY', 'welcomeMessage', 'theme'],
      apiKeyId: expect.any(String),
      settings: { theme: 'light', welcomeMessage: 'Welcome', offsetY: 20 },
    });
    expect(previous).toMatchObject({ version: 53, operation: 'patch', changedFields: ['offsetY'] });
    // 53 changes (versions 2 to 54): the oldest three are gone.
    const all = await editor.get<WidgetSettingsChange[]>(`${settingsPath(bot)}/history?perPage=100`);
    expect(all.body.data.map((c) => c.version)).toEqual(Array.from({ length: 50 }, (_, i) => 54 - i));
    expect((await read(bot)).updatedAt).toBe(latest?.createdAt);
  });

  it('announces each change with its version and public config, for open widgets to restyle', async () => {
    const bot = await createBot(org);
    const seen: SettingsUpdate[] = [];
    const unsubscribe = t.app.services.widgetSettings.updates.subscribe((update) => seen.push(update));
    await org.api.patch(settingsPath(bot), { primaryColor: '#ffff00', displayName: 'Ada' });
    await org.api.patch(settingsPath(bot), { primaryColor: '#ffff00' });
    unsubscribe();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      organizationId: org.id,
      chatbotId: bot.id,
      version: 2,
      config: { botId: bot.id, name: 'Ada', version: 2, appearance: { primaryColor: '#ffff00', textColor: '#000000' } },
    });
  });

  it('needs settings:write to change and knowledge:read to read', async () => {
    const bot = await createBot(org);
    const reader = await t.clientWithScopes(org, ['knowledge:read', 'leads:read']);
    expect((await reader.get(settingsPath(bot))).status).toBe(200);
    for (const res of [await reader.put(settingsPath(bot), {}), await reader.patch(settingsPath(bot), {})]) {
      expect(res.status).toBe(403);
      expect(res.body.error?.message).toContain('"settings:write"');
    }
    const writer = await t.clientWithScopes(org, ['settings:write']);
    expect((await writer.patch(settingsPath(bot), { theme: 'light' })).status).toBe(200);
  });

  it("answers 404 for another organization's bot on every route", async () => {
    const bot = await createBot(org, { name: 'Private' });
    for (const res of [
      await other.api.get(settingsPath(bot)),
      await other.api.put(settingsPath(bot), {}),
      await other.api.patch(settingsPath(bot), { theme: 'dark' }),
      await other.api.get(`${settingsPath(bot)}/history`),
      await other.api.get(`/api/v1/chatbots/${bot.slug}/widget-settings`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error?.name).toBe('NotFoundError');
    }
    expect((await read(bot)).version).toBe(1);
  });
});
