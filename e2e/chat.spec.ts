import { expect, test } from '@playwright/test';
import { BOTS } from './stack/ports.js';
import { hostPage, openChat, sendMessage, widget } from './support/widget.js';

test('opening the launcher shows the welcome message and quick prompts, and an answer streams in', async ({ page }) => {
  await page.goto(hostPage());
  const w = await openChat(page);
  await expect(w.panel.locator('.welcome')).toContainText('Hi! I am Echo helper');
  await expect(w.panel.locator('.quick-prompts button')).toHaveCount(2);

  await sendMessage(w.input, 'Tell me about streaming please #slow');
  await expect(w.messages.first()).toContainText('Tell me about streaming please');
  // Part of the answer is on screen before all of it: tokens arrive one by one.
  await expect(w.lastAnswer.locator('.bubble')).toContainText('Echo:');
  const partial = await w.lastAnswer.locator('.bubble').innerText();
  expect(partial.length).toBeLessThan('Echo: Tell me about streaming please #slow'.length);
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: Tell me about streaming please #slow');
  await expect(w.lastAnswer.locator('.feedback button')).toHaveCount(2);
  await expect(w.panel.locator('[role="status"][aria-live="polite"]')).toHaveText(
    'Echo: Tell me about streaming please #slow',
  );
});

test('reloading and moving to another page keep the conversation; "new conversation" starts over', async ({ page }) => {
  await page.goto(hostPage());
  let w = await openChat(page);
  await sendMessage(w.input, 'Remember the blue tent');
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: Remember the blue tent');

  await page.reload();
  w = widget(page);
  // The panel was open before the reload, so it opens again with the history.
  await expect(w.panel).toBeVisible();
  await expect(w.messages).toHaveCount(2);
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: Remember the blue tent');

  await page.locator('#first-link').click();
  await expect(page).toHaveURL(/\/other/);
  await expect(w.messages).toHaveCount(2);

  await w.panel.getByRole('button', { name: 'Start a new conversation' }).click();
  await expect(w.messages).toHaveCount(0);
  await page.reload();
  await expect(widget(page).panel).toBeVisible();
  await expect(widget(page).messages).toHaveCount(0);
});

test('an answer shows its citations as links opening in a new tab, and feedback is kept', async ({ page }) => {
  await page.goto(hostPage({ bot: BOTS.docs }));
  const w = await openChat(page);
  await sendMessage(w.input, 'Can I return a tent for a refund?');
  const sources = w.lastAnswer.locator('.sources');
  await expect(sources).toBeVisible();
  const link = sources.locator('a').first();
  await expect(link).toHaveAttribute('href', /\/returns\.html$/);
  await expect(link).toHaveAttribute('target', '_blank');
  await expect(link).toHaveAttribute('rel', /noopener/);

  const up = w.lastAnswer.getByRole('button', { name: 'Helpful', exact: true });
  await up.click();
  await expect(up).toHaveAttribute('aria-pressed', 'true');
  await page.reload();
  await expect(widget(page).lastAnswer.getByRole('button', { name: 'Helpful', exact: true })).toHaveAttribute(
    'aria-pressed',
    'true',
  );
});

test('a failed answer offers Retry, and retrying answers into the same bubble', async ({ page }) => {
  await page.goto(hostPage());
  const w = await openChat(page);
  // The test model cuts this answer the first time it is asked and answers it in full after.
  await sendMessage(w.input, 'This one breaks once #dieonce');
  await expect(w.lastAnswer.locator('.error')).toBeVisible();
  await w.lastAnswer.getByRole('button', { name: 'Retry' }).click();
  await expect(w.lastAnswer.locator('.feedback')).toBeVisible();
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: This one breaks once #dieonce');
  await expect(w.lastAnswer.locator('.error')).toHaveCount(0);
  await expect(w.answers).toHaveCount(1);
  await expect(w.messages).toHaveCount(2);
  // Stored once: the reloaded conversation is the same two messages.
  await page.reload();
  // The panel reopens by itself after a reload.
  const reloaded = widget(page);
  await expect(reloaded.input).toBeEnabled();
  await expect(reloaded.lastAnswer.locator('.bubble')).toHaveText('Echo: This one breaks once #dieonce');
  await expect(reloaded.messages).toHaveCount(2);
});

test('an answer found failed in history after a reload offers Retry, and retrying answers it', async ({ page }) => {
  await page.goto(hostPage());
  const w = await openChat(page);
  await sendMessage(w.input, 'Broken before the reload #dieonce');
  await expect(w.lastAnswer.locator('.error')).toBeVisible();
  await page.reload();
  // The panel reopens by itself after a reload.
  const reloaded = widget(page);
  await expect(reloaded.input).toBeEnabled();
  await expect(reloaded.lastAnswer.locator('.error')).toBeVisible();
  await reloaded.lastAnswer.getByRole('button', { name: 'Retry' }).click();
  await expect(reloaded.lastAnswer.locator('.feedback')).toBeVisible();
  await expect(reloaded.lastAnswer.locator('.bubble')).toHaveText('Echo: Broken before the reload #dieonce');
  await expect(reloaded.answers).toHaveCount(1);
  await expect(reloaded.messages).toHaveCount(2);
});

test('an answer that stops without a word from the server offers Retry once history shows it failed', async ({
  page,
}) => {
  // The server's error event for the cut answer is lost on the way, as when the node answering it dies.
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    const server = ws.connectToServer();
    server.onMessage((message) => {
      if (typeof message === 'string' && message.includes('"chat:error"')) return;
      ws.send(message);
    });
  });
  await page.goto(hostPage());
  const w = await openChat(page);
  await sendMessage(w.input, 'Cut off without a word #dieonce');
  await expect(w.lastAnswer.getByRole('button', { name: 'Retry' })).toBeVisible({ timeout: 20_000 });
  await w.lastAnswer.getByRole('button', { name: 'Retry' }).click();
  await expect(w.lastAnswer.locator('.feedback')).toBeVisible();
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: Cut off without a word #dieonce');
  await expect(w.answers).toHaveCount(1);
  await expect(w.messages).toHaveCount(2);
});
