import { expect, test, type Page } from '@playwright/test';
import { hostPage, widget } from './support/widget.js';

/** What has focus inside the widget: "launcher", "panel:<tag>", or "outside". */
function focused(page: Page) {
  return page.evaluate(() => {
    const host = document.querySelector('wisp-widget');
    if (!host || document.activeElement !== host) return 'outside';
    const active = host.shadowRoot?.activeElement;
    if (!active) return 'outside';
    if (active.classList.contains('launcher')) return 'launcher';
    return active.closest('#wisp-panel') ? `panel:${active.tagName.toLowerCase()}` : 'outside';
  });
}

test('keyboard only: Tab to the launcher, Enter opens, Enter sends, focus stays in the panel, Esc closes', async ({
  page,
}) => {
  await page.goto(hostPage());
  const w = widget(page);
  await expect(w.launcher).toBeVisible();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await expect.poll(() => focused(page)).toBe('launcher');

  await page.keyboard.press('Enter');
  await expect(w.panel).toBeVisible();
  await expect.poll(() => focused(page)).toBe('panel:textarea');
  await expect(w.input).toBeEnabled();

  await page.keyboard.type('first line');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('second line');
  await page.keyboard.press('Enter');
  await expect(w.messages.first().locator('.bubble')).toContainText('first line\nsecond line');
  await expect(w.lastAnswer.locator('.feedback')).toBeVisible();

  for (let i = 0; i < 12; i += 1) {
    await page.keyboard.press(i % 3 === 2 ? 'Shift+Tab' : 'Tab');
    expect(await focused(page)).toMatch(/^panel:/);
  }

  await page.keyboard.press('Escape');
  await expect(w.panel).toBeHidden();
  await expect.poll(() => focused(page)).toBe('launcher');
});
