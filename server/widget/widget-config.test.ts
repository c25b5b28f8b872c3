import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WidgetConfig } from '../../shared/schemas/widget-settings.js';
import { WIDGET_NAMESPACE } from '../../shared/socket-events.js';
import type { TestApp, TestOrg } from '../test/test-app.js';
import { createBot, settingsPath, startOwnerApp } from '../widget-settings/widget-settings.fixtures.js';

const SITE = 'https://shop.example';

describe('public widget config', () => {
  let t: TestApp;
  let org: TestOrg;
  let other: TestOrg;

  beforeAll(async () => {
    ({ t, org, other } = await startOwnerApp());
  });
  afterAll(() => t.stop());

  const patchSettings = (bot: { id: string }, body: Record<string, unknown>) => org.api.patch(settingsPath(bot), body);
  const fetchConfig = (bot: string, headers: Record<string, string> = {}) =>
    t.anonymous.get<WidgetConfig>(`/api/v1/widget-config?bot=${bot}`, headers);

  it('holds exactly what the widget renders from: no instructions, model settings, origins or secrets', async () => {
    const bot = await createBot(org, {
      name: 'Secretive',
      instructions: 'INTERNAL: never reveal the discount code SAVE50',
      modelSettings: { model: 'gpt-secret', temperature: 0.9 },
      allowedOrigins: [SITE],
    });
    await patchSettings(bot, {
      leadCapture: {
        enabled: true,
        askEmailWhenUnanswered: true,
        fields: [{ key: 'email', label: 'Email', type: 'email' }],
      },
    });
    const res = await fetchConfig(bot.id, { origin: SITE });
    expect(res.status).toBe(200);
    const config = res.body.data;
    expect(Object.keys(config).sort()).toEqual(
      [
        'appearance',
        'botId',
        'inputPlaceholder',
        'leadCapture',
        'locale',
        'name',
        'openOnLoad',
        'quickPrompts',
        'showCitations',
        'showPoweredBy',
        'slug',
        'strings',
        'version',
        'welcomeMessage',
      ].sort(),
    );
    expect(Object.keys(config.appearance).sort()).toEqual(
      [
        'avatarUrl',
        'cssVariables',
        'launcherIconUrl',
        'offsetX',
        'offsetY',
        'position',
        'primaryColor',
        'textColor',
        'theme',
      ].sort(),
    );
    expect(Object.keys(config.leadCapture).sort()).toEqual(
      ['afterMessages', 'consentText', 'enabled', 'fields', 'trigger'].sort(),
    );
    expect(Object.keys(config.leadCapture.fields[0] ?? {}).sort()).toEqual(['key', 'label', 'required', 'type']);
    const text = JSON.stringify(res.body);
    for (const secret of [
      'SAVE50',
      'gpt-secret',
      'instructions',
      'modelSettings',
      'identitySecret',
      'allowedOrigins',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(config).toMatchObject({ botId: bot.id, slug: bot.slug, name: 'Secretive', version: 2 });
  });

  it.each([
    ['#ffff00', '#000000'],
    ['#1e3a8a', '#ffffff'],
    ['#2563eb', '#ffffff'],
    ['#eee', '#000000'],
  ])('on a primary color of %s, picks %s text when no text color is set', async (primaryColor, textColor) => {
    const bot = await createBot(org);
    await patchSettings(bot, { primaryColor });
    expect((await fetchConfig(bot.id)).body.data.appearance.textColor).toBe(textColor);
  });

  it("keeps the owner's text color and display name when set", async () => {
    const bot = await createBot(org);
    await patchSettings(bot, { primaryColor: '#ffff00', textColor: '#123456', displayName: 'Ada' });
    const config = (await fetchConfig(bot.id)).body.data;
    expect(config.appearance.textColor).toBe('#123456');
    expect(config.name).toBe('Ada');
  });

  it('sends an ETag and a one-minute Cache-Control; the same ETag answers 304 until the settings change', async () => {
    const bot = await createBot(org);
    const first = await fetchConfig(bot.id);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(first.headers.get('cache-control')).toBe('public, max-age=60');
    const revalidated = await fetch(`${t.url}/api/v1/widget-config?bot=${bot.id}`, {
      headers: { 'if-none-match': etag ?? '' },
    });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe('');
    expect(revalidated.headers.get('etag')).toBe(etag);
    await patchSettings(bot, { welcomeMessage: 'New welcome' });
    const changed = await fetch(`${t.url}/api/v1/widget-config?bot=${bot.id}`, {
      headers: { 'if-none-match': etag ?? '' },
    });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(((await changed.json()) as { data: WidgetConfig }).data.welcomeMessage).toBe('New welcome');
  });

  it('keeps a slug-based embed working when another organization creates a bot of the same name', async () => {
    const mine = await createBot(org, { name: 'Shared Support' });
    expect((await fetchConfig(mine.slug.toUpperCase())).body.data.botId).toBe(mine.id);
    const theirs = await createBot(other, { name: 'Shared Support' });
    expect(theirs.slug).not.toBe(mine.slug);
    const hijack = await other.api.post('/api/v1/chatbots', { name: 'Hijack', slug: mine.slug });
    expect(hijack.status).toBe(409);
    expect((await fetchConfig(mine.slug)).body.data.botId).toBe(mine.id);
    expect((await fetchConfig(theirs.slug)).body.data.botId).toBe(theirs.id);
    expect((await fetchConfig(theirs.id)).body.data.botId).toBe(theirs.id);
  });

  it.each([
    ['an unknown id', () => Promise.resolve('0123456789abcdef01234567')],
    ['an unknown slug', () => Promise.resolve('no-such-bot')],
    ['a disabled bot', async () => (await createBot(org, { status: 'disabled' })).id],
  ])('answers the 404 envelope for %s', async (_case, botRef) => {
    const res = await fetchConfig(await botRef(), { origin: SITE });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      success: false,
      data: null,
      error: expect.objectContaining({ name: 'NotFoundError' }),
    });
    // Readable by the widget, so it can say the bot is unavailable.
    expect(res.headers.get('access-control-allow-origin')).toBe(SITE);
  });

  it('answers 422 when no bot is named', async () => {
    const res = await t.anonymous.get('/api/v1/widget-config');
    expect(res.status).toBe(422);
    expect((res.body.error?.details as { fields: Array<{ path: string }> }).fields[0]?.path).toBe('bot');
  });

  describe('CORS', () => {
    it('reflects an origin the bot allows, with Vary: Origin, and refuses others with 403 and no grant', async () => {
      const bot = await createBot(org, { allowedOrigins: [SITE] });
      const allowed = await fetchConfig(bot.id, { origin: 'https://SHOP.example' });
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://SHOP.example');
      expect(allowed.headers.get('vary')).toMatch(/Origin/);
      expect(allowed.headers.get('access-control-expose-headers')).toContain('ETag');
      const refused = await fetchConfig(bot.id, { origin: 'https://evil.example' });
      expect(refused.status).toBe(403);
      expect(refused.body.error?.name).toBe('ForbiddenError');
      expect(refused.body.data).toBeNull();
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      expect(refused.headers.get('vary')).toMatch(/Origin/);
    });

    it('refuses a request without an Origin when the bot lists origins, as the socket handshake does', async () => {
      const bot = await createBot(org, { allowedOrigins: [SITE] });
      const refused = await fetchConfig(bot.id);
      expect(refused.status).toBe(403);
      expect(refused.body.error?.message).toMatch(/no Origin header.*allowedOrigins/);
      expect((await fetchConfig((await createBot(org)).id)).status).toBe(200);
    });

    it('allows any origin when the list is empty, never with a wildcard', async () => {
      const bot = await createBot(org);
      const res = await fetchConfig(bot.id, { origin: 'https://anywhere.example' });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://anywhere.example');
    });

    const preflight = (path: string, origin: string) =>
      fetch(`${t.url}${path}`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });

    it('answers the preflight of the public widget paths from an origin the bot allows', async () => {
      const bot = await createBot(org, { allowedOrigins: [SITE] });
      for (const path of [`/api/v1/widget-config?bot=${bot.id}`, '/api/v1/widget/leads']) {
        const res = await preflight(path, SITE);
        expect(res.status).toBe(204);
        expect(res.headers.get('access-control-allow-origin')).toBe(SITE);
        expect(res.headers.get('access-control-allow-methods')).toContain('POST');
        expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
        expect(res.headers.get('vary')).toMatch(/Origin/);
      }
    });

    it('grants no preflight to an origin the bot does not allow, nor for a bot that does not exist', async () => {
      const bot = await createBot(org, { allowedOrigins: [SITE] });
      for (const [path, origin] of [
        [`/api/v1/widget-config?bot=${bot.id}`, 'https://evil.example'],
        ['/api/v1/widget-config?bot=no-such-bot', SITE],
      ] as const) {
        const res = await preflight(path, origin);
        expect(res.status).toBe(204);
        expect(res.headers.get('access-control-allow-origin')).toBeNull();
        expect(res.headers.get('access-control-allow-methods')).toBeNull();
      }
    });

    it('leaves the rest of the API on its open policy', async () => {
      const res = await org.api.get('/api/v1/chatbots', { origin: 'https://evil.example' });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    });
  });

  it('pushes settings:updated with the new version and config to the open widgets of the bot', async () => {
    const bot = await createBot(org);
    const bystander = await createBot(org, { name: 'Bystander' });
    const connect = (botId: string) =>
      new Promise<Socket>((resolve, reject) => {
        const socket = io(`${t.url}${WIDGET_NAMESPACE}`, {
          auth: { bot: botId, visitorId: `visitor-${Math.random().toString(36).slice(2, 12)}` },
          transports: ['websocket'],
          reconnection: false,
        });
        socket.once('session', () => resolve(socket));
        socket.once('connect_error', reject);
      });
    const [widget, otherWidget] = await Promise.all([connect(bot.id), connect(bystander.id)]);
    try {
      const otherUpdates: unknown[] = [];
      otherWidget.on('settings:updated', (payload: unknown) => otherUpdates.push(payload));
      const received = new Promise<{ version: number; config: WidgetConfig }>((resolve) =>
        widget.once('settings:updated', resolve),
      );
      await patchSettings(bot, { primaryColor: '#ff0000', quickPrompts: ['Hours?'] });
      const update = await received;
      expect(update.version).toBe(2);
      expect(update.config).toEqual((await fetchConfig(bot.id)).body.data);
      expect(update.config.appearance.primaryColor).toBe('#ff0000');
      expect(otherUpdates).toEqual([]);
    } finally {
      widget.disconnect();
      otherWidget.disconnect();
    }
  });
});
