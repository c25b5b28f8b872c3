import { mkdirSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { BOTS } from './stack/ports.js';
import { hostPage, openChat, sendMessage } from './support/widget.js';

/** The README's pictures of the open widget, refreshed by every e2e run. */
for (const shot of [
  { file: 'docs/widget-desktop.png', viewport: { width: 1280, height: 800 } },
  { file: 'docs/widget-mobile.png', viewport: { width: 375, height: 667 } },
]) {
  test(`screenshot: ${shot.file}`, async ({ browser }) => {
    const context = await browser.newContext({ viewport: shot.viewport, deviceScaleFactor: 1, colorScheme: 'light' });
    const page = await context.newPage();
    await page.goto(hostPage({ bot: BOTS.docs }));
    const w = await openChat(page);
    await sendMessage(w.input, 'Can I return a tent?');
    await expect(w.lastAnswer.locator('.sources')).toBeVisible();
    await w.input.fill('');
    mkdirSync('docs', { recursive: true });
    await page.screenshot({ path: shot.file });
    await context.close();
  });
}
