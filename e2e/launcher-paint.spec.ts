import { expect, test, type Page, type Route } from '@playwright/test';
import { BOTS } from './stack/ports.js';
import { hostPage, widget } from './support/widget.js';

/** Holds the page's widget-config requests until `release()`: the launcher must not wait for them. */
async function holdConfig(page: Page) {
  const held: Route[] = [];
  let released = false;
  await page.route('**/api/v1/widget-config*', async (route) => {
    if (released) await route.continue();
    else held.push(route);
  });
  return {
    waiting: () => held.length,
    release: async () => {
      released = true;
      for (const route of held.splice(0)) await route.continue();
    },
  };
}

test('the launcher paints before the config arrives, from the defaults, then from the config it kept', async ({
  page,
}) => {
  const w = widget(page);
  const config = await holdConfig(page);
  await page.goto(hostPage({ bot: BOTS.echo }));
  await expect(w.launcher).toBeVisible();
  // The launcher may paint before the widget has even asked for its config; the request is then held.
  await expect.poll(() => config.waiting()).toBe(1);
  await expect(w.launcher).toHaveAttribute('aria-label', 'Open chat');

  // A click while the config loads is kept, and opens the chat once it is there.
  await w.launcher.click();
  await expect(w.panel).toHaveCount(0);
  await config.release();
  await expect(w.panel).toBeVisible();
  await expect(w.launcher).toHaveAttribute('aria-expanded', 'true');
  await page.keyboard.press('Escape');

  // The next page view paints from the config this browser kept: the bot's own label at once.
  await page.unroute('**/api/v1/widget-config*');
  const again = await holdConfig(page);
  await page.goto(hostPage({ bot: BOTS.echo, path: '/other' }));
  await expect(w.launcher).toBeVisible();
  await expect.poll(() => again.waiting()).toBe(1);
  await expect(w.launcher).toHaveAttribute('aria-label', /Open chat with /);
  await again.release();
});

test('a kept config of a bot that now refuses the site paints nothing for long, and is forgotten', async ({ page }) => {
  const w = widget(page);
  await page.goto(hostPage({ bot: BOTS.echo }));
  await expect(w.launcher).toBeVisible();
  const key = `wisp:${BOTS.locked}:config`;
  // As if this browser had seen the locked bot's config before its owner removed this site.
  await page.evaluate(({ stored, from }) => localStorage.setItem(stored, localStorage.getItem(from) ?? ''), {
    stored: key,
    from: `wisp:${BOTS.echo}:config`,
  });
  await page.goto(hostPage({ bot: BOTS.locked }));
  await expect.poll(() => page.evaluate((stored) => localStorage.getItem(stored), key)).toBeNull();
  await expect(page.locator('wisp-widget')).toHaveCount(0);
});
