import { expect, test } from '@playwright/test';
import { failOnDialogs, hostPage, openChat, sendMessage } from './support/widget.js';

test('HTML in a message is shown as text, never run', async ({ page }) => {
  failOnDialogs(page);
  await page.goto(hostPage());
  const w = await openChat(page);
  const payload = '<img src=x onerror=alert(1)>';
  await sendMessage(w.input, payload);
  await expect(w.messages.first().locator('.bubble')).toContainText(payload);
  await expect(w.lastAnswer.locator('.bubble')).toHaveText(`Echo: ${payload}`);
  await expect(w.root.locator('img')).toHaveCount(0);
});

test('a javascript: markdown link stays inert while an https link opens safely in a new tab', async ({ page }) => {
  failOnDialogs(page);
  await page.goto(hostPage());
  const w = await openChat(page);
  await sendMessage(w.input, 'See [x](javascript:alert(1)) and [our shop](https://shop.example/)');
  await expect(w.lastAnswer.locator('.feedback')).toBeVisible();
  const links = w.lastAnswer.locator('.bubble a');
  await expect(links).toHaveCount(1);
  await expect(links).toHaveAttribute('href', 'https://shop.example/');
  await expect(links).toHaveAttribute('target', '_blank');
  await expect(links).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(w.root.locator('a[href^="javascript"]')).toHaveCount(0);
  await expect(w.lastAnswer.locator('.bubble')).toContainText('See x');
});
