import { expect, test, type WebSocketRoute } from '@playwright/test';
import { longReply } from '../server/test/fake-llm/fake-llm.reply.js';
import { API_ORIGIN } from './stack/ports.js';
import { hostPage, openChat, sendMessage } from './support/widget.js';

test('the network dropping mid-answer and coming back shows the whole answer exactly once', async ({ page }) => {
  // The network between the page and the API: open sockets are cut, new connections refused, while `down`.
  let down = false;
  const open: WebSocketRoute[] = [];
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    if (down) return void ws.close();
    ws.connectToServer();
    open.push(ws);
  });
  await page.route(`${API_ORIGIN}/**`, (route) => (down ? route.abort('internetdisconnected') : route.fallback()));

  await page.goto(hostPage());
  const w = await openChat(page);
  // 60 tokens, 150 ms apart: about nine seconds of streaming to drop the network in.
  await sendMessage(w.input, 'Tell me everything, network #slow #long');
  await expect(w.lastAnswer.locator('.bubble')).toContainText('This is a deliberately');

  // No browser offline event: the widget learns of the drop only from its connection.
  down = true;
  for (const ws of open.splice(0)) await ws.close();
  await expect(w.status).toContainText('You are offline', { timeout: 15_000 });
  await expect(w.input).toBeDisabled();
  down = false;
  await expect(w.input).toBeEnabled({ timeout: 20_000 });

  await expect(w.lastAnswer.locator('.feedback')).toBeVisible({ timeout: 20_000 });
  await expect(w.lastAnswer.locator('.bubble')).toHaveText(longReply());
  await expect(w.answers).toHaveCount(1);
  await expect(w.messages).toHaveCount(2);
});
test('the browser going offline mid-answer and back online shows the whole answer exactly once', async ({
  page,
  context,
}) => {
  await page.goto(hostPage());
  const w = await openChat(page);
  // 60 tokens, 150 ms apart: about nine seconds of streaming to drop the network in.
  await sendMessage(w.input, 'Tell me everything #slow #long');
  await expect(w.lastAnswer.locator('.bubble')).toContainText('This is a deliberately');

  await context.setOffline(true);
  await expect(w.status).toContainText('You are offline');
  await expect(w.input).toBeDisabled();
  await page.waitForTimeout(2_500);
  await context.setOffline(false);
  await expect(w.input).toBeEnabled({ timeout: 15_000 });

  await expect(w.lastAnswer.locator('.feedback')).toBeVisible({ timeout: 20_000 });
  await expect(w.lastAnswer.locator('.bubble')).toHaveText(longReply());
  await expect(w.answers).toHaveCount(1);
  await expect(w.messages).toHaveCount(2);
});
