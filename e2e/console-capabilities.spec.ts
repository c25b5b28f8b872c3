import { expect, test } from '@playwright/test';
import type { ActionDto } from '../shared/schemas/actions.js';
import type { ChannelDto } from '../shared/schemas/channels.js';
import type { WebhookDto } from '../shared/schemas/webhooks.js';
import { adminApi } from './support/api.js';
import { chooseBot, CONSOLE, createBot, expectAccessible, openPage, signIn } from './support/console.js';
import { API_ORIGIN, HOST_ORIGIN } from './stack/ports.js';

test('adds a webhook whose secret is shown once, sends a test, disables, rotates and deletes it', async ({ page }) => {
  const bot = await createBot('Webhook console bot');
  // The host-page server answers 200 to any method on /health: a receiver that accepts every delivery.
  const url = `${HOST_ORIGIN}/health?hook=${Date.now()}`;
  await signIn(page, '#/webhooks');
  const form = page.getByRole('form', { name: 'New webhook' });
  await form.getByLabel('Endpoint URL').fill(url);
  await form.getByLabel('Description').fill('CRM sync');
  await form.getByLabel('Only events of').selectOption({ label: bot.name });
  await form.getByLabel('Every event, including ones added later').uncheck();
  await expect(form.getByRole('button', { name: 'Add webhook' })).toBeDisabled();
  await form.getByLabel('lead.created').check();
  await form.getByLabel('webhook.test').check();
  await form.getByRole('button', { name: 'Add webhook' }).click();

  const first = (await page.getByTestId('new-secret').textContent())!.trim();
  expect(first).toMatch(/^whsec_/);
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByTestId('new-secret')).toHaveCount(0);
  // Once dismissed, the secret is nowhere: not on the page, not in what the API lists.
  await expect(page.locator('body')).not.toContainText(first);
  const listed = (await adminApi<WebhookDto[]>('GET', '/webhooks?perPage=100')).find((w) => w.url === url)!;
  expect(listed).toMatchObject({ events: ['lead.created', 'webhook.test'], chatbotId: bot.id, enabled: true });
  expect(JSON.stringify(listed)).not.toContain('whsec_');

  const item = page.locator('.webhooks > li').filter({ hasText: url });
  await expect(item).toContainText('lead.created, webhook.test');
  await expect(item).toContainText(`only ${bot.name}`);
  await item.getByRole('button', { name: `Send test ${url}` }).click();
  await expect(item.getByRole('status').filter({ hasText: 'Test event queued: see the deliveries.' })).toBeVisible();
  const delivery = item.getByRole('region', { name: `Deliveries to ${url}` }).locator('tbody tr');
  await expect(delivery.filter({ hasText: 'webhook.test' })).toContainText('delivered');
  await expect(delivery.filter({ hasText: 'webhook.test' })).toContainText('HTTP 200');
  await expectAccessible(page);

  await item.getByRole('button', { name: `Disable ${url}` }).click();
  await expect(item.locator('.badge').first()).toHaveText('Disabled');
  await item.getByRole('button', { name: `Enable ${url}` }).click();
  await expect(item.locator('.badge').first()).toHaveText('Enabled');

  await item.getByRole('button', { name: `Rotate secret ${url}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Rotate secret' }).click();
  const second = (await page.getByTestId('new-secret').textContent())!.trim();
  expect(second).toMatch(/^whsec_/);
  expect(second).not.toBe(first);
  await page.getByRole('button', { name: 'Done' }).click();

  await item.getByRole('button', { name: `Delete ${url}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete webhook' }).click();
  await expect(page.locator('.webhooks > li').filter({ hasText: url })).toHaveCount(0);
  await expect
    .poll(async () => (await adminApi<WebhookDto[]>('GET', '/webhooks?perPage=100')).some((w) => w.url === url))
    .toBe(false);
});

test('adds an action from a preset and one from scratch, then tests it by hand', async ({ page }) => {
  const bot = await createBot('Actions console bot');
  await signIn(page);
  await chooseBot(page, bot.name);
  await openPage(page, 'Actions');

  const preset = page.getByRole('form', { name: 'New action from a preset' });
  await preset.getByLabel('Preset').selectOption({ label: 'Shopify: order status' });
  await preset.getByLabel('Shop address').fill('https://e2e-tents.myshopify.com');
  await preset.getByLabel('Admin API access token').fill('shpat_e2e_secret_token');
  await preset.getByRole('button', { name: 'Add preset action' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Added the action shopify_order_status.' })).toBeVisible();
  const shopify = page.locator('.actions > li').filter({ hasText: 'shopify_order_status' });
  await expect(shopify).toContainText('GET https://e2e-tents.myshopify.com/admin/api/2024-10/orders.json');
  await expect(shopify).toContainText('auth: header');
  // The token went to the server once: the page and the API never show it back.
  await expect(page.locator('body')).not.toContainText('shpat_e2e_secret_token');
  const saved = await adminApi<ActionDto[]>('GET', `/chatbots/${bot.id}/actions`);
  expect(JSON.stringify(saved)).not.toContain('shpat_e2e_secret_token');

  await page.getByLabel('Scratch').check();
  const scratch = page.getByRole('form', { name: 'New action from scratch' });
  await scratch.getByLabel('Tool name').fill('server_status');
  await scratch.getByLabel('Description').fill('Tells whether the service is up.');
  await scratch.getByLabel('URL').fill(`${API_ORIGIN}/readyz`);
  await scratch.getByLabel('Parameters').fill('{ "type": "object", ');
  await scratch.getByRole('button', { name: 'Create action' }).click();
  await expect(scratch.getByRole('alert')).toContainText('Parameters is not valid JSON');
  // Nothing typed is lost by the refused save.
  await expect(scratch.getByLabel('Tool name')).toHaveValue('server_status');
  await scratch
    .getByLabel('Parameters')
    .fill('{ "type": "object", "properties": { "verbose": { "type": "boolean" } }, "additionalProperties": false }');
  await scratch.getByRole('button', { name: 'Create action' }).click();
  const status = page.locator('.actions > li').filter({ hasText: 'server_status' });
  await expect(status).toContainText(`GET ${API_ORIGIN}/readyz`);
  await expectAccessible(page);

  await status.getByRole('button', { name: 'Test server_status' }).click();
  const runner = status.getByRole('form', { name: 'Test server_status' });
  await expect(runner.getByLabel('Arguments')).toHaveValue(/"verbose": false/);
  await runner.getByRole('button', { name: 'Run now' }).click();
  await expect(runner.getByRole('status').locator('.badge')).toHaveText('succeeded');
  await expect(runner.getByRole('status')).toContainText('HTTP 200');
  await expect(status.getByRole('region', { name: 'Runs of server_status' }).locator('tbody tr')).toHaveCount(1);
  await expectAccessible(page);

  await shopify.getByRole('button', { name: 'Delete shopify_order_status' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete action' }).click();
  await expect(page.locator('.actions > li').filter({ hasText: 'shopify_order_status' })).toHaveCount(0);
});

test('creates an agent loop, runs it now and watches the execution complete, then schedules it', async ({ page }) => {
  const bot = await createBot('Loop console bot');
  const name = `Morning digest ${Date.now()}`;
  await signIn(page);
  await chooseBot(page, bot.name);
  await openPage(page, 'Agent loops');
  const form = page.getByRole('form', { name: 'New agent loop' });
  await form.getByLabel('Name').fill(name);
  await expect(form.getByLabel('Bot')).toHaveValue(bot.id);
  await form.getByLabel('Goal').fill('Summarise what visitors asked about today.');
  await form.getByRole('button', { name: 'Create loop' }).click();
  await expect(page.getByRole('status').filter({ hasText: `Created the loop ${name}.` })).toBeVisible();

  const loop = page.locator('.loops > li').filter({ hasText: name });
  await expect(loop).toContainText(`${bot.name} · on demand only`);
  await loop.getByRole('button', { name: `Runs ${name}` }).click();
  await loop.getByRole('button', { name: `Run now ${name}` }).click();
  await expect(loop.getByRole('status').filter({ hasText: 'Started' })).toBeVisible();
  const execution = loop.getByRole('region', { name: `Executions of ${name}` }).locator('tbody tr');
  await expect(execution).toHaveCount(1);
  // Queued, then running, then done: the list refreshes by itself while the run is in progress.
  await expect(execution.locator('.badge')).toHaveText('Completed', { timeout: 30_000 });
  await execution.getByRole('button', { name: /\d+ steps?/ }).click();
  await expect(loop.locator('.execution')).toContainText('Model');
  await expectAccessible(page);

  await loop.getByRole('button', { name: `Edit ${name}` }).click();
  const edit = page.getByRole('form', { name: `Edit loop ${name}` });
  await edit.getByLabel('Cron').fill('0 9 * * 1-5');
  await edit.getByLabel('Time zone').fill('Europe/Berlin');
  await edit.getByRole('button', { name: 'Save loop' }).click();
  await expect(loop).toContainText('0 9 * * 1-5 (Europe/Berlin), next');

  await loop.getByRole('button', { name: `Edit ${name}` }).click();
  await edit.getByLabel('Cron').fill('not a cron');
  await edit.getByRole('button', { name: 'Save loop' }).click();
  await expect(edit.getByRole('alert')).toBeVisible();
  await expect(edit.getByLabel('Cron')).toHaveValue('not a cron');
});

test('connects a webhook-type channel, shows its secret once, and deletes it', async ({ page }) => {
  const bot = await createBot('Channel console bot');
  await signIn(page);
  await chooseBot(page, bot.name);
  await openPage(page, 'Channels');
  await expect(page.getByText('No channels yet')).toBeVisible();
  const form = page.getByRole('form', { name: 'New channel' });
  await form.getByLabel('Platform').selectOption({ label: 'Webhook (any platform)' });
  await form.getByLabel('Channel name').fill('Help desk');
  await form.getByLabel('Callback URL').fill(`${HOST_ORIGIN}/health`);
  await form.getByRole('button', { name: 'Connect channel' }).click();

  const secret = (await page.getByTestId('new-secret').textContent())!.trim();
  expect(secret).toMatch(/^whsec_/);
  const channel = page.locator('.channels > li').filter({ hasText: 'Help desk' });
  await expect(channel.locator('.badge')).toHaveText('Connected');
  const [created] = await adminApi<ChannelDto[]>('GET', `/chatbots/${bot.id}/channels`);
  expect(created).toMatchObject({ type: 'webhook', name: 'Help desk', callbackUrl: `${HOST_ORIGIN}/health` });
  await expect(channel).toContainText(created!.inboundUrl);
  expect(JSON.stringify(created)).not.toContain(secret);
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page.locator('body')).not.toContainText(secret);
  await expectAccessible(page);

  await channel.getByRole('button', { name: 'Reconnect Help desk' }).click();
  await expect(channel.locator('.badge')).toHaveText('Connected');

  await channel.getByRole('button', { name: 'Delete Help desk' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete channel' }).click();
  await expect(page.getByText('No channels yet')).toBeVisible();
});

test('shows the actions an answer called in its transcript', async ({ page }) => {
  const bot = await createBot('Action calls console bot');
  await adminApi('POST', `/chatbots/${bot.id}/actions`, {
    name: 'server_status',
    description: 'Tells whether the service is up.',
    request: { method: 'GET', url: `${API_ORIGIN}/readyz` },
  });
  // The test model calls a tool offered to it when the message names it this way.
  const { conversationId } = await adminApi<{ conversationId: string }>('POST', `/chatbots/${bot.id}/chat`, {
    message: 'Is it up? #tool:server_status {}',
  });
  await signIn(page, `#/conversations/${conversationId}`);
  const transcript = page.getByRole('region', { name: 'Transcript' });
  const calls = transcript.locator('.message.assistant .tool-calls');
  await expect(calls.locator('summary')).toHaveText('1 action call');
  await calls.locator('summary').click();
  await expect(calls.getByRole('listitem')).toContainText('server_status · succeeded');
  await expectAccessible(page);
});

test('adds a model connection whose key is never shown back, offers it to bots, and deletes it', async ({ page }) => {
  const name = `Local model ${Date.now()}`;
  await signIn(page, '#/models');
  const form = page.getByRole('form', { name: 'New model connection' });
  await form.getByLabel('Connection name').fill(name);
  await form.getByLabel('Base URL').fill(`${HOST_ORIGIN}/v1`);
  await form.getByLabel('Provider API key').fill('sk-provider-e2e-secret');
  await form.getByLabel('Chat model').fill('fake-chat');
  await form.getByRole('button', { name: 'Add connection' }).click();
  const item = page.locator('.models > li').filter({ hasText: name });
  await expect(item).toContainText('chat: fake-chat · embeddings: — · key stored');
  await expect(page.locator('body')).not.toContainText('sk-provider-e2e-secret');
  await expectAccessible(page);

  await item.getByRole('button', { name: `Edit ${name}` }).click();
  const edit = page.getByRole('form', { name: `Edit model connection ${name}` });
  await expect(edit.getByLabel('Provider API key')).toHaveValue('');
  await edit.getByLabel('Embedding model').fill('fake-embed');
  await edit.getByRole('button', { name: 'Save connection' }).click();
  await expect(item).toContainText('embeddings: fake-embed · key stored');

  await openPage(page, 'Bots');
  await expect(page.getByLabel('Model connection').locator('option', { hasText: name })).toHaveCount(1);
  await openPage(page, 'Model connections');
  await item.getByRole('button', { name: `Delete ${name}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete connection' }).click();
  await expect(page.locator('.models > li').filter({ hasText: name })).toHaveCount(0);
});

test('the new pages fit 390 px and pass axe', async ({ browser }) => {
  const bot = await createBot('Narrow console bot');
  await adminApi('POST', '/webhooks', { url: `${HOST_ORIGIN}/health?narrow=1`, events: ['*'], chatbotId: bot.id });
  await adminApi('POST', `/chatbots/${bot.id}/channels`, { type: 'webhook', name: 'Narrow channel' });
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await signIn(page);
  await chooseBot(page, bot.name);
  for (const [hash, heading] of [
    ['#/actions', 'Actions'],
    ['#/channels', 'Channels'],
    ['#/agent-loops', 'Agent loops'],
    ['#/webhooks', 'Webhooks'],
    ['#/models', 'Model connections'],
  ] as const) {
    await page.goto(`${CONSOLE}${hash}`);
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
    await expect(page.getByRole('status').filter({ hasText: 'Loading…' })).toHaveCount(0);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, hash).toBeLessThanOrEqual(0);
    await expectAccessible(page);
  }
  await context.close();
});

test('edits a webhook by keyboard alone, the focus going into the form and back', async ({ page }) => {
  const url = `${HOST_ORIGIN}/health?keyboard=${Date.now()}`;
  const moved = `${url}&moved=1`;
  await adminApi('POST', '/webhooks', { url, events: ['*'] });
  await signIn(page, '#/webhooks');
  await page.getByRole('button', { name: `Edit ${url}` }).focus();
  await page.keyboard.press('Enter');
  const field = page.getByRole('form', { name: `Edit webhook ${url}` }).getByLabel('Endpoint URL');
  await expect(field).toBeFocused();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(moved);
  // Enter in a field submits its form.
  await page.keyboard.press('Enter');
  await expect(page.getByRole('button', { name: `Edit ${moved}` })).toBeFocused();
  const [saved] = (await adminApi<WebhookDto[]>('GET', '/webhooks?perPage=100')).filter((w) => w.url === moved);
  expect(saved).toMatchObject({ events: ['*'] });
});
