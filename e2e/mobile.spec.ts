import { expect, test } from '@playwright/test';
import { hostPage, openChat, sendMessage } from './support/widget.js';

test.use({ viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true });

test('on a 375x667 phone the panel fills the screen, inputs do not zoom, and chatting works', async ({ page }) => {
  await page.goto(hostPage());
  const w = await openChat(page);
  expect(await w.panel.boundingBox()).toEqual({ x: 0, y: 0, width: 375, height: 667 });
  await expect(w.launcher).toBeHidden();
  expect(await w.input.evaluate((el) => getComputedStyle(el).fontSize)).toBe('16px');

  await sendMessage(w.input, 'Hello from a phone');
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: Hello from a phone');
  await w.panel.getByRole('button', { name: 'Close chat' }).click();
  await expect(w.panel).toBeHidden();
  await expect(w.launcher).toBeVisible();
});
