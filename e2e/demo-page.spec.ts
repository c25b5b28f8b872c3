import { expect, test } from '@playwright/test';
import { API_ORIGIN } from './stack/ports.js';

test('the demo page fits a desktop window and its snippet names the real host', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${API_ORIGIN}/`);
  const snippet = page.locator('pre');
  await expect(snippet).toContainText(`<script src="${API_ORIGIN}/widget.js" data-bot=`);
  const overflow = await page.evaluate(() => {
    const pre = document.querySelector('pre')!;
    return {
      page: document.documentElement.scrollWidth - window.innerWidth,
      snippet: pre.scrollWidth - pre.clientWidth,
    };
  });
  expect(overflow).toEqual({ page: 0, snippet: 0 });
  const icon = await page.request.get(`${API_ORIGIN}/favicon.ico`);
  expect(icon.status()).toBe(200);
  await page.screenshot({ path: 'test-results/demo-page-desktop.png' });
});
