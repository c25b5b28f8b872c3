import { expect, test, type Page } from '@playwright/test';
import { hostPage, openChat, sendMessage, widget } from './support/widget.js';

const PROPERTIES = [
  'color',
  'background-color',
  'font-family',
  'font-size',
  'line-height',
  'letter-spacing',
  'text-transform',
  'border-top-width',
  'border-radius',
  'padding-top',
  'margin-top',
  'width',
  'height',
  'display',
  'filter',
];
const ELEMENTS = [
  '.launcher',
  '.panel',
  '.title',
  '.composer textarea',
  '.send',
  '.welcome .bubble',
  '.header .icon-button',
];

/** Computed styles of the widget's parts, and where the launcher and panel sit. */
async function snapshot(page: Page) {
  // The pointer left over the launcher from the click scales it through a transition: measure at rest.
  await page.mouse.move(0, 0);
  await page.waitForFunction(() => document.querySelector('wisp-widget')?.shadowRoot?.getAnimations().length === 0);
  return page.evaluate(
    ({ properties, elements }) => {
      const root = document.querySelector('wisp-widget')?.shadowRoot;
      if (!root) throw new Error('no widget');
      return elements.map((selector) => {
        const element = root.querySelector(selector);
        if (!element) throw new Error(`missing ${selector}`);
        const style = getComputedStyle(element);
        const box = element.getBoundingClientRect();
        return {
          selector,
          box: [box.x, box.y, box.width, box.height].map(Math.round),
          ...Object.fromEntries(properties.map((p) => [p, style.getPropertyValue(p)])),
        };
      });
    },
    { properties: PROPERTIES, elements: ELEMENTS },
  );
}

test('hostile host CSS does not change the widget, and it works under a strict CSP', async ({ page }) => {
  await page.goto(hostPage());
  await openChat(page);
  const clean = await snapshot(page);
  // Closed again, so the next page does not reopen it by itself.
  await page.keyboard.press('Escape');

  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) =>
      seen.push(`${event.violatedDirective} ${event.blockedURI}`),
    );
  });
  await page.goto(hostPage({ css: 'hostile', csp: 'strict' }));
  const w = await openChat(page);
  expect(await snapshot(page)).toEqual(clean);

  await sendMessage(w.input, 'Still working?');
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: Still working?');
  expect(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
});

test('the only global is window.Wisp, and pasting the snippet twice loads one widget', async ({ page }) => {
  await page.addInitScript(() => {
    (window as unknown as { globalsBefore: string[] }).globalsBefore = Object.getOwnPropertyNames(window);
  });
  await page.goto(hostPage({ twice: true }));
  const w = await openChat(page);
  await sendMessage(w.input, 'Hello once');
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: Hello once');
  await expect(page.locator('wisp-widget')).toHaveCount(1);
  await expect(w.messages).toHaveCount(2);
  const added = await page.evaluate(() => {
    const before = new Set((window as unknown as { globalsBefore: string[] }).globalsBefore);
    return Object.getOwnPropertyNames(window).filter((name) => !before.has(name) && name !== 'globalsBefore');
  });
  expect(added).toEqual(['Wisp']);
  expect(await page.evaluate(() => document.head.querySelectorAll('style, link[href*="4310"]').length)).toBe(0);
});

test('window.WispSettings and the JS API drive the widget', async ({ page }) => {
  await page.goto(hostPage({ settings: true }));
  const w = widget(page);
  await expect(w.launcher).toBeVisible();
  const box = await w.launcher.boundingBox();
  expect(box && box.x).toBeLessThan(100);

  await page.evaluate(() => {
    const events: string[] = [];
    (window as unknown as { seen: string[] }).seen = events;
    const api = (
      window as unknown as { Wisp: { on(e: string, f: (p?: unknown) => void): void; send(t: string): void } }
    ).Wisp;
    for (const name of ['open', 'close', 'message']) {
      api.on(name, (payload) => events.push(payload ? `${name}:${(payload as { role: string }).role}` : name));
    }
    api.send('Sent from the page');
  });
  await expect(w.panel).toBeVisible();
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: Sent from the page');
  await expect(w.lastAnswer.locator('.feedback')).toBeVisible();
  await page.evaluate(() => (window as unknown as { Wisp: { close(): void } }).Wisp.close());
  await expect(w.panel).toBeHidden();
  await expect
    .poll(() => page.evaluate(() => (window as unknown as { seen: string[] }).seen))
    .toEqual(['open', 'message:user', 'message:assistant', 'close']);
});
