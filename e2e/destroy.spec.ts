import { expect, test, type WebSocket } from '@playwright/test';
import { API_ORIGIN, BOTS } from './stack/ports.js';
import { hostPage, openChat, sendMessage, widget } from './support/widget.js';

test('Wisp.destroy() removes the widget, closes its socket and leaves nothing listening; the script loads again', async ({
  page,
  context,
}) => {
  const problems: string[] = [];
  page.on('console', (message) => {
    // The host page has no favicon; that 404 is the browser's, not the widget's.
    if (message.location().url.endsWith('/favicon.ico')) return;
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  const sockets: WebSocket[] = [];
  page.on('websocket', (ws) => {
    if (ws.url().includes('/socket.io/')) sockets.push(ws);
  });

  await page.goto(hostPage());
  let w = await openChat(page);
  await sendMessage(w.input, 'Before the widget goes away');
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: Before the widget goes away');
  expect(sockets).toHaveLength(1);
  const first = sockets[0]!;

  const closed = first.waitForEvent('close');
  await page.evaluate(() => (window as unknown as { Wisp: { destroy(): void } }).Wisp.destroy());
  await closed;
  expect(first.isClosed()).toBe(true);
  await expect(page.locator('wisp-widget')).toHaveCount(0);
  expect(await page.evaluate(() => 'Wisp' in window)).toBe(false);

  // Nothing the widget added reacts any more: keys, resizing, going offline and back online.
  const framesAfterClose: string[] = [];
  first.on('framesent', (frame) => framesAfterClose.push(String(frame.payload)));
  first.on('framereceived', (frame) => framesAfterClose.push(String(frame.payload)));
  await page.keyboard.press('Escape');
  await page.keyboard.press('Enter');
  await page.setViewportSize({ width: 400, height: 700 });
  await page.setViewportSize({ width: 1280, height: 800 });
  await context.setOffline(true);
  await context.setOffline(false);

  // The same script added again starts a fresh widget, with the visitor's conversation kept.
  await page.evaluate(
    ({ src, bot }) => {
      const script = document.createElement('script');
      script.src = src;
      script.dataset.bot = bot;
      document.body.append(script);
    },
    { src: `${API_ORIGIN}/widget.js`, bot: BOTS.echo },
  );
  w = widget(page);
  await expect(page.locator('wisp-widget')).toHaveCount(1);
  await expect(w.launcher).toBeVisible();
  w = await openChat(page);
  await expect(w.messages.first()).toContainText('Before the widget goes away');
  await sendMessage(w.input, 'After loading it again');
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: After loading it again');

  // Only the new widget opened a socket; the destroyed one never reconnected or sent a frame.
  expect(sockets).toHaveLength(2);
  expect(sockets[1]!.isClosed()).toBe(false);
  expect(framesAfterClose).toEqual([]);
  expect(problems).toEqual([]);
});
