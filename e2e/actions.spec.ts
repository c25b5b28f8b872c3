import { expect, test } from '@playwright/test';
import { BOTS, HOST_ORIGIN } from './stack/ports.js';
import { hostPage, openChat, sendMessage, widget } from './support/widget.js';

/** How often the host pages' shop was asked to cancel this order. */
async function cancelCalls(order: string): Promise<number> {
  const res = await fetch(`${HOST_ORIGIN}/api/orders/calls?order=${order}`);
  return ((await res.json()) as { calls: number }).calls;
}

test('an action that needs confirmation shows a card; approving runs it once and the follow-up answer streams in', async ({
  page,
}) => {
  await page.goto(hostPage({ bot: BOTS.actions }));
  const w = await openChat(page);
  await sendMessage(w.input, 'Please cancel my order #tool:cancel_order {"orderNumber":"7001"}');
  const answer = w.lastAnswer;
  await expect(answer.locator('.bubble')).toContainText('please confirm: Cancel the order');
  const approve = answer.getByRole('button', { name: 'Approve', exact: true });
  await expect(approve).toBeVisible();
  await expect(answer.getByRole('button', { name: 'Decline', exact: true })).toBeVisible();
  expect(await cancelCalls('7001')).toBe(0);

  await approve.click();
  // The card goes at once; the same bubble then holds the bot's answer from the action's result.
  await expect(answer.getByRole('button', { name: 'Approve', exact: true })).toHaveCount(0);
  await expect(answer.locator('.bubble')).toContainText('Tool result:');
  await expect(answer.locator('.bubble')).toContainText('cancelled');
  await expect(answer.locator('.bubble')).not.toContainText('please confirm');
  await expect(w.answers).toHaveCount(1);
  expect(await cancelCalls('7001')).toBe(1);

  // After a reload the answer is the follow-up, with no card to press again.
  await page.reload();
  const again = widget(page);
  await expect(again.lastAnswer.locator('.bubble')).toContainText('cancelled');
  await expect(again.lastAnswer.getByRole('button', { name: 'Approve', exact: true })).toHaveCount(0);
  expect(await cancelCalls('7001')).toBe(1);
});

test('declining the card sends nothing, and the bot says so; the card survives a reload until answered', async ({
  page,
}) => {
  await page.goto(hostPage({ bot: BOTS.actions }));
  let w = await openChat(page);
  await sendMessage(w.input, 'Cancel it please #tool:cancel_order {"orderNumber":"7002"}');
  await expect(w.lastAnswer.getByRole('button', { name: 'Decline', exact: true })).toBeVisible();

  await page.reload();
  w = widget(page);
  const decline = w.lastAnswer.getByRole('button', { name: 'Decline', exact: true });
  await expect(decline).toBeVisible();
  await decline.click();
  await expect(w.lastAnswer.locator('.bubble')).toContainText('declined');
  await expect(w.lastAnswer.getByRole('button', { name: 'Decline', exact: true })).toHaveCount(0);
  expect(await cancelCalls('7002')).toBe(0);
});
