import { expect, test } from '@playwright/test';
import { io } from 'socket.io-client';
import { API_ORIGIN, BOTS, HOST_ORIGIN } from './stack/ports.js';
import { hostPage } from './support/widget.js';

/** Connects to the widget namespace as a page on `origin` would; resolves with the refusal's name, or "connected". */
function handshakeFrom(origin: string, bot: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = io(`${API_ORIGIN}/widget`, {
      transports: ['websocket'],
      extraHeaders: { Origin: origin },
      auth: { bot, visitorId: `v_origin_test_${Date.now()}` },
      reconnection: false,
    });
    socket.on('connect', () => {
      socket.disconnect();
      resolve('connected');
    });
    socket.on('connect_error', (error: Error & { data?: { name?: string } }) =>
      resolve(error.data?.name ?? error.message),
    );
  });
}

test('a site that is not in the bot allowed origins gets no widget and no socket', async ({ page }) => {
  const config = await fetch(`${API_ORIGIN}/api/v1/widget-config?bot=${BOTS.locked}`, {
    headers: { Origin: HOST_ORIGIN },
  });
  expect(config.status).toBe(403);
  expect(config.headers.get('access-control-allow-origin')).toBeNull();

  const socketRequests: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/socket.io/')) socketRequests.push(request.url());
  });
  await page.goto(hostPage({ bot: BOTS.locked }));
  await page.waitForTimeout(1_000);
  await expect(page.locator('wisp-widget')).toHaveCount(0);
  expect(socketRequests).toEqual([]);

  expect(await handshakeFrom(HOST_ORIGIN, BOTS.locked)).toBe('ForbiddenError');
  expect(await handshakeFrom('https://shop.example', BOTS.locked)).toBe('connected');
  expect(await handshakeFrom(HOST_ORIGIN, BOTS.echo)).toBe('connected');
});
