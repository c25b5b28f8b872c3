import { expect, test, type Page } from '@playwright/test';
import { BOTS } from './stack/ports.js';
import { hostPage, openChat, sendMessage, widget } from './support/widget.js';

/** The thread's items in order: `message user`, `message assistant …`, `lead-slot`. */
async function threadOrder(page: Page): Promise<string[]> {
  return widget(page)
    .root.locator('.messages ol > li:not(.welcome)')
    .evaluateAll((items) =>
      items.map((item) =>
        item.classList.contains('lead-slot') ? 'lead' : item.classList.contains('user') ? 'user' : 'assistant',
      ),
    );
}

test('an answer that fails before its first word shows the error without an empty bubble above it', async ({
  page,
}) => {
  await page.goto(hostPage());
  const w = await openChat(page);
  await sendMessage(w.input, 'Nothing comes back #fail500');
  await expect(w.lastAnswer.locator('.error')).toBeVisible();
  await expect(w.lastAnswer.locator('.bubble')).toHaveCount(0);
  await page.screenshot({ path: 'test-results/failed-answer.png' });

  // One that fails mid-answer keeps the words it got, with the error under them.
  await sendMessage(w.input, 'This one breaks #die');
  await expect(w.lastAnswer.locator('.error')).toBeVisible();
  await expect(w.lastAnswer.locator('.bubble')).toContainText('Echo: This');
});

test('the lead form’s thanks stays where the form was as the conversation goes on', async ({ page }) => {
  await page.goto(hostPage({ bot: BOTS.leadUnsure }));
  const w = await openChat(page);
  await sendMessage(w.input, 'Do you repair stoves?');
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: Do you repair stoves?');
  const form = w.root.locator('form.lead');
  await expect(form).toBeVisible();
  await form.getByLabel('Name').fill('Grace Hopper');
  await form.getByLabel('Email').fill('grace@example.com');
  await form.getByRole('button', { name: 'Send details' }).click();
  await expect(w.panel.getByText('Thanks! We will be in touch.')).toBeVisible();

  await sendMessage(w.input, 'And tents?');
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: And tents?');
  expect(await threadOrder(page)).toEqual(['user', 'assistant', 'lead', 'user', 'assistant']);
});
