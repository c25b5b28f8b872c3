import { expect, test } from '@playwright/test';
import { longReply } from '../server/test/fake-llm/fake-llm.reply.js';
import { hostPage, openChat, sendMessage } from './support/widget.js';

test('going offline mid-answer and back online shows the whole answer exactly once', async ({ page, context }) => {
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
