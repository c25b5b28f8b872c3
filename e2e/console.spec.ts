import { mkdirSync, readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import type { ChatbotDto } from '../shared/schemas/chatbots.js';
import { adminApi } from './support/api.js';
import { chooseBot, CONSOLE, createBot, expectAccessible, openPage, signIn } from './support/console.js';
import { API_ORIGIN, BOTS, E2E_ADMIN_KEY } from './stack/ports.js';
import { hostPage, openChat, sendMessage, widget } from './support/widget.js';

test('signs in with an API key kept out of storage, and signs out for good', async ({ page, context }) => {
  await page.goto(CONSOLE);
  await expectAccessible(page);
  await page.getByLabel('API key').fill('sk_live_wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('The API key is not valid');

  await page.getByLabel('API key').fill(E2E_ADMIN_KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Usage this month' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Activity' })).toContainText(
    /Analytics are not available on this server|No activity in this period yet|conversations/,
  );
  await expectAccessible(page);

  const stored = await page.evaluate(
    () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie,
  );
  expect(stored).not.toContain(E2E_ADMIN_KEY);
  const [cookie] = (await context.cookies(`${API_ORIGIN}/api/v1/`)).filter((c) => c.name === 'wisp_console');
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api/v1' });

  // A reload keeps the session (the cookie), without asking for the key again.
  await page.reload();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByLabel('API key')).toBeVisible();
  const after = await page.request.get(`${API_ORIGIN}/api/v1/chatbots`, {
    headers: { cookie: `wisp_console=${cookie!.value}` },
  });
  expect(after.status()).toBe(401);
});

test('draws the analytics series on the overview when the server answers it', async ({ page }) => {
  // The analytics endpoint is answered here, in the shape the console reads (tolerant of more fields).
  await page.route('**/api/v1/analytics*', (route) =>
    route.fulfill({
      json: {
        success: true,
        error: null,
        data: {
          series: [
            { bucket: '2026-11-30', conversations: 3, messages: 9, answers: 4, extra: 'ignored' },
            { bucket: '2026-12-01', conversations: 5, messages: 12, answers: 6 },
          ],
          top: { questions: [{ question: 'Can I return a tent?', count: 4 }] },
        },
      },
    }),
  );
  await signIn(page);
  const activity = page.getByRole('region', { name: 'Activity' });
  await expect(activity.getByRole('img', { name: /8 conversations, 21 messages, 10 answers/ })).toBeVisible();
  await expect(activity.locator('canvas')).toBeVisible();
  await expect(activity.getByRole('listitem').filter({ hasText: 'Can I return a tent?' })).toContainText('(4)');
  await expectAccessible(page);
});

test('creates, edits and deletes a bot, keeping the form when a save fails', async ({ page }) => {
  await signIn(page, '#/bots');
  await expect(page.getByRole('heading', { level: 1, name: 'Bots' })).toBeVisible();
  await page.getByRole('button', { name: 'New bot' }).click();
  const form = page.getByRole('form', { name: 'New bot' });
  await form.getByLabel('Name').fill('Console bot');
  await form.getByLabel('Instructions').fill('Answer briefly.');
  await form.getByLabel('Allowed origins').fill('not an origin');
  await form.getByRole('button', { name: 'Create bot' }).click();
  await expect(form.getByRole('alert')).toContainText('must be an origin like https://www.example.com');
  // Nothing typed is lost by the failed save.
  await expect(form.getByLabel('Instructions')).toHaveValue('Answer briefly.');
  await form.getByLabel('Allowed origins').fill('https://www.example.com');
  await form.getByRole('button', { name: 'Create bot' }).click();

  const edit = page.getByRole('form', { name: 'Edit Console bot' });
  await expect(edit).toBeVisible();
  await expect(page.getByRole('button', { name: 'Console bot', exact: true })).toBeVisible();
  await expectAccessible(page);
  await edit.getByLabel('Name').fill('Console bot renamed');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(edit.getByRole('status')).toHaveText('Saved "Console bot renamed".');
  const bots = await adminApi<ChatbotDto[]>('GET', '/chatbots?perPage=100');
  const saved = bots.find((bot) => bot.name === 'Console bot renamed');
  expect(saved).toMatchObject({ instructions: 'Answer briefly.', allowedOrigins: ['https://www.example.com'] });

  await page
    .getByRole('form', { name: 'Edit Console bot renamed' })
    .getByRole('button', { name: 'Delete bot' })
    .click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('Delete "Console bot renamed"');
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByRole('button', { name: 'Console bot renamed', exact: true })).toHaveCount(0);
  await expect
    .poll(async () => (await adminApi<ChatbotDto[]>('GET', '/chatbots?perPage=100')).some((b) => b.id === saved!.id))
    .toBe(false);
});

test('adds text and files and watches each source become ready, then tries a question', async ({ page }) => {
  const bot = await createBot('Knowledge console bot');
  await signIn(page);
  await chooseBot(page, bot.name);
  await openPage(page, 'Knowledge');

  await page.getByLabel('Title').fill('Shipping');
  await page
    .getByRole('textbox', { name: 'Text', exact: true })
    .fill('We ship tents to every address in the EU within 3 working days.');
  await page.getByRole('button', { name: 'Add text' }).click();
  const sources = page.locator('.sources > li');
  await expect(sources.filter({ hasText: 'Shipping' }).getByText(/Ready · \d+ chunks?/)).toBeVisible();

  // The kinds of source are tabs, moved between with the arrow keys.
  await page.getByRole('tab', { name: 'Text' }).focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByRole('tab', { name: 'Files' })).toBeFocused();
  await expect(page.getByRole('tab', { name: 'Files' })).toHaveAttribute('aria-selected', 'true');
  await page.locator('input[type=file]').setInputFiles([
    {
      name: 'returns.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from('# Returns\n\nTents can be returned within 30 days.'),
    },
    { name: 'hours.txt', mimeType: 'text/plain', buffer: Buffer.from('Our shop opens at 9 and closes at 18.') },
  ]);
  await expect(page.getByText('returns.md: uploaded')).toBeVisible();
  await expect(page.getByText('hours.txt: uploaded')).toBeVisible();
  await expect(sources).toHaveCount(3);
  await expect(sources.getByText(/Ready · \d+ chunks?/)).toHaveCount(3);

  await sources.filter({ hasText: 'Shipping' }).getByRole('button', { name: 'Preview chunks' }).click();
  await expect(sources.filter({ hasText: 'Shipping' }).locator('.chunks')).toContainText('within 3 working days');

  await page.getByRole('textbox', { name: 'Question' }).fill('Can I return a tent?');
  await page.getByRole('button', { name: 'Look up' }).click();
  await expect(page.locator('.passages li').first()).toContainText('Tents can be returned within 30 days.');
  await expect(page.locator('.passages .score').first()).toHaveText(/score \d\.\d{3}/);
  await expectAccessible(page);
});

test('restyles the widget and sees the real widget preview change before saving', async ({ page }) => {
  const bot = await createBot('Widget console bot');
  await signIn(page);
  await chooseBot(page, bot.name);
  await openPage(page, 'Widget');
  const preview = page.frameLocator('iframe[title^="Widget preview"]');
  const launcher = preview.locator('wisp-widget .launcher');
  await expect(launcher).toHaveCSS('background-color', 'rgb(37, 99, 235)');

  await page.getByLabel('Primary color').fill('#7c3aed');
  await page.getByLabel('Welcome message').fill('Hello from the console');
  await expect(launcher).toHaveCSS('background-color', 'rgb(124, 58, 237)');
  await expect(preview.locator('wisp-widget .welcome')).toContainText('Hello from the console');

  await page.getByRole('button', { name: 'Save widget settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved (version' })).toBeVisible();
  const state = await adminApi<{ settings: { primaryColor: string; welcomeMessage: string } }>(
    'GET',
    `/chatbots/${bot.id}/widget-settings`,
  );
  expect(state.settings).toMatchObject({ primaryColor: '#7c3aed', welcomeMessage: 'Hello from the console' });
  await expect(page.locator('pre code')).toHaveText(
    `<script src="${API_ORIGIN}/widget.js" data-bot="${bot.id}" async></script>`,
  );
  await expectAccessible(page);
});

test('reads a conversation with its citations', async ({ page }) => {
  const { conversationId } = await adminApi<{ conversationId: string }>('POST', `/chatbots/${BOTS.docs}/chat`, {
    message: 'Can I return a tent?',
  });
  await signIn(page, '#/conversations');
  await page.getByLabel('Bot', { exact: true }).last().selectOption({ label: 'Docs helper' });
  await page.locator(`a[href="#/conversations/${conversationId}"]`).click();
  const transcript = page.getByRole('region', { name: 'Transcript' });
  await expect(transcript.locator('.message.user')).toContainText('Can I return a tent?');
  const citations = transcript.locator('.message.assistant summary');
  await expect(citations).toHaveText(/\d+ citations/);
  await citations.click();
  await expect(transcript.locator('.message.assistant .score').first()).toBeVisible();
  await expectAccessible(page);
});

test('answers an unanswered question from the gap log, which adds it as knowledge', async ({ page }) => {
  const bot = await createBot('Gaps console bot');
  await adminApi('POST', `/chatbots/${bot.id}/chat`, { message: 'Do you sell gift cards?' });
  await signIn(page);
  await chooseBot(page, bot.name);
  await openPage(page, 'Gaps');
  const gap = page.locator('.gaps > li').filter({ hasText: 'Do you sell gift cards?' });
  await expect(gap).toContainText('asked 1×');
  await gap.getByRole('button', { name: 'Answer this' }).click();
  await gap.getByLabel('Answer to "Do you sell gift cards?"').fill('Yes, gift cards from 10 to 200 euros.');
  await gap.getByRole('button', { name: 'Add as knowledge' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Added an answer' })).toBeVisible();
  await expectAccessible(page);
  await openPage(page, 'Knowledge');
  await expect(
    page.locator('.sources > li').filter({ hasText: 'Do you sell gift cards?' }).getByText(/Ready/),
  ).toBeVisible();
});

test('finds a lead and exports the matching leads as CSV', async ({ page, browser }) => {
  const email = `console-${Date.now()}@example.com`;
  const visitor = await browser.newPage();
  await visitor.goto(new URL(hostPage({ bot: BOTS.leadFirst }), test.info().project.use.baseURL).href);
  const w = await openChat(visitor);
  const form = widget(visitor).panel.getByRole('form', { name: 'How can we reach you?' });
  await form.getByLabel('Your name').fill('Grace Hopper');
  await form.getByLabel('Email').fill(email);
  await form.getByLabel('I agree to be contacted about my question.').check();
  await sendMessage(w.input, 'Hello');
  await form.getByRole('button', { name: 'Send details' }).click();
  await expect(w.panel.getByRole('status').filter({ hasText: 'Thanks! We will be in touch.' })).toBeVisible();
  await visitor.close();

  await signIn(page, '#/leads');
  await page.getByLabel('Search name, email, company').fill(email);
  await page.getByLabel('Search name, email, company').press('Enter');
  await expect(page.locator('tbody tr')).toHaveCount(1);
  await expect(page.locator('tbody tr')).toContainText('Grace Hopper');
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export CSV' }).click();
  const csv = readFileSync(await (await download).path(), 'utf8');
  expect(csv.split('\r\n')[0]).toContain('email');
  expect(csv).toContain(email);
  expect(csv.trim().split('\r\n')).toHaveLength(2);
  await expectAccessible(page);
});

test('creates a scoped key shown once, rotates it and sees the old one revoked', async ({ page }) => {
  const name = `Rotate ${Date.now()}`;
  await signIn(page, '#/keys');
  const form = page.getByRole('form', { name: 'New key' });
  await form.getByLabel('Name').fill(name);
  await form.getByLabel('knowledge:read').check();
  await form.getByRole('button', { name: 'Create key' }).click();
  const first = (await page.getByTestId('new-key').textContent())!.trim();
  expect(first).toMatch(/^sk_live_/);
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByTestId('new-key')).toHaveCount(0);

  const row = page.locator('tbody tr').filter({ hasText: name });
  await expect(row).toContainText('chat, knowledge:read');
  await row.getByRole('button', { name: `Rotate ${name}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Rotate key' }).click();
  const second = (await page.getByTestId('new-key').textContent())!.trim();
  expect(second).toMatch(/^sk_live_/);
  expect(second).not.toBe(first);
  await expect(page.locator('tbody tr').filter({ hasText: name }).filter({ hasText: 'revoked' })).toHaveCount(1);
  const old = await page.request.get(`${API_ORIGIN}/api/v1/chatbots`, {
    headers: { authorization: `Bearer ${first}` },
  });
  expect(old.status()).toBe(401);
  await expect(page.getByRole('heading', { name: 'Console sessions' })).toBeVisible();
  await expectAccessible(page);
});

test('works at 390 px wide and fully by keyboard', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(CONSOLE);
  await expect(page.getByLabel('API key')).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('API key')).toBeFocused();
  await page.keyboard.type(E2E_ADMIN_KEY);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  const menu = page.getByRole('button', { name: 'Menu' });
  await menu.focus();
  await page.keyboard.press('Enter');
  await expect(menu).toHaveAttribute('aria-expanded', 'true');
  await page.getByRole('link', { name: 'Leads' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: 'Leads' })).toBeFocused();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await expectAccessible(page);
  await context.close();
});

/** The README's pictures of the console, refreshed by every e2e run. */
for (const shot of [
  { file: 'docs/console-knowledge.png', hash: '#/knowledge', viewport: { width: 1280, height: 800 } },
  { file: 'docs/console-widget.png', hash: '#/widget', viewport: { width: 1280, height: 800 } },
  { file: 'docs/console-mobile.png', hash: '#/conversations', viewport: { width: 390, height: 844 } },
]) {
  test(`screenshot: ${shot.file}`, async ({ browser }) => {
    const context = await browser.newContext({ viewport: shot.viewport, deviceScaleFactor: 1, colorScheme: 'light' });
    const page = await context.newPage();
    // A conversation of its own, so the picture never shows an empty list.
    if (shot.hash === '#/conversations') {
      await adminApi('POST', `/chatbots/${BOTS.docs}/chat`, { message: 'Can I return a tent?' });
    }
    await signIn(page);
    await chooseBot(page, 'Docs helper');
    await page.goto(`${CONSOLE}${shot.hash}`);
    await expect(page.locator('main h1')).toBeVisible();
    if (shot.hash === '#/knowledge') await expect(page.locator('.sources > li').first()).toBeVisible();
    if (shot.hash === '#/widget')
      await expect(page.frameLocator('iframe').locator('wisp-widget #wisp-panel')).toBeVisible();
    if (shot.hash === '#/conversations') await expect(page.locator('tbody tr').first()).toBeVisible();
    mkdirSync('docs', { recursive: true });
    await page.screenshot({ path: shot.file });
    await context.close();
  });
}
