import { expect, test, type Page } from '@playwright/test';
import type { LeadListItem } from '../shared/schemas/leads.js';
import { adminApi } from './support/api.js';
import { BOTS } from './stack/ports.js';
import { hostPage, openChat, sendMessage, widget } from './support/widget.js';

/** The lead form inside the widget, by its accessible name. */
function leadForm(page: Page) {
  return widget(page).panel.getByRole('form', { name: 'How can we reach you?' });
}

/** Collects the page's `Wisp.on('lead')` payloads in `window.leadEvents`. */
async function listenForLeads(page: Page): Promise<void> {
  await page.evaluate(() => {
    const target = window as unknown as {
      leadEvents: unknown[];
      Wisp: { on(e: string, fn: (p: unknown) => void): void };
    };
    target.leadEvents = [];
    target.Wisp.on('lead', (payload) => target.leadEvents.push(payload));
  });
}

test('settings changed through the API restyle an open widget at once, without reload', async ({ page }) => {
  await page.goto(hostPage({ bot: BOTS.restyle }));
  const w = await openChat(page);
  // An answer proves the socket is connected (and in the bot's room) before the change.
  await sendMessage(w.input, 'Hello');
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: Hello');
  const header = w.panel.locator('.header');
  await expect(header).toHaveCSS('background-color', 'rgb(15, 118, 110)');
  let navigations = 0;
  page.on('framenavigated', () => (navigations += 1));

  await adminApi('PATCH', `/chatbots/${BOTS.restyle}/widget-settings`, {
    primaryColor: '#7c3aed',
    welcomeMessage: 'Welcome back, now in purple.',
    displayName: 'Purple helper',
  });

  await expect(header).toHaveCSS('background-color', 'rgb(124, 58, 237)');
  await expect(w.launcher).toHaveCSS('background-color', 'rgb(124, 58, 237)');
  await expect(w.panel.locator('.welcome')).toHaveText('Welcome back, now in purple.');
  await expect(w.panel.locator('#wisp-title')).toHaveText('Purple helper');
  expect(navigations).toBe(0);
  await expect(w.messages).toHaveCount(2);
});

test('before_first_message: the form comes first, holds the message, checks the answers, then sends', async ({
  page,
}) => {
  await page.goto(hostPage({ bot: BOTS.leadFirst }));
  const w = await openChat(page);
  const form = leadForm(page);
  await expect(form).toBeVisible();
  const name = form.getByLabel('Your name');
  const email = form.getByLabel('Email');
  await expect(name).toBeFocused();
  // Required fields before the first message: there is no way around the form.
  await expect(form.getByRole('button', { name: 'Not now' })).toHaveCount(0);
  await listenForLeads(page);

  await sendMessage(w.input, 'Hello there');
  await expect(w.messages).toHaveCount(1);

  await form.getByRole('button', { name: 'Send details' }).click();
  await expect(name).toHaveAttribute('aria-invalid', 'true');
  await expect(name).toBeFocused();
  await expect(name).toHaveAccessibleDescription('This field is required.');
  await expect(form.getByText('Tick this box to send your details.')).toBeVisible();

  await name.fill('Ada Lovelace');
  await email.fill('not-an-email');
  await form.getByLabel('I agree to be contacted about my question.').check();
  await form.getByRole('button', { name: 'Send details' }).click();
  await expect(email).toBeFocused();
  await expect(email).toHaveAccessibleDescription('Enter an email address like name@example.com.');
  await expect(name).not.toHaveAttribute('aria-invalid', 'true');
  // The held message is still waiting for the form.
  await expect(w.answers).toHaveCount(0);

  await email.fill('ada@example.com');
  await form.getByRole('button', { name: 'Send details' }).click();
  await expect(w.panel.getByRole('status').filter({ hasText: 'Thanks! We will be in touch.' })).toBeVisible();
  await expect(form).toHaveCount(0);
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: Hello there');
  const events = await page.evaluate(() => (window as unknown as { leadEvents: Array<{ leadId: string }> }).leadEvents);
  expect(events).toEqual([{ leadId: expect.stringMatching(/^[0-9a-f]{24}$/) }]);

  // A lead given is not asked for again.
  await page.reload();
  await expect(widget(page).panel).toBeVisible();
  await expect(widget(page).messages).toHaveCount(2);
  await expect(leadForm(page)).toHaveCount(0);
});

test('after_messages: the form appears after the second visitor message and "Not now" puts it away', async ({
  page,
}) => {
  await page.goto(hostPage({ bot: BOTS.leadAfter }));
  const w = await openChat(page);
  await sendMessage(w.input, 'First question');
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: First question');
  await expect(leadForm(page)).toHaveCount(0);

  await sendMessage(w.input, 'Second question');
  const form = leadForm(page);
  await expect(form).toBeVisible();
  await expect(form.getByLabel('Email')).toBeFocused();
  await form.getByRole('button', { name: 'Not now' }).click();
  await expect(form).toHaveCount(0);
  await expect(w.input).toBeFocused();

  await sendMessage(w.input, 'Third question');
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: Third question');
  await expect(leadForm(page)).toHaveCount(0);
  // Dismissed for this session: a reload does not ask again.
  await page.reload();
  await expect(widget(page).messages).toHaveCount(6);
  await expect(leadForm(page)).toHaveCount(0);
});

test('cannot_answer: an answer without knowledge asks for details, and the lead is listed with its conversation', async ({
  page,
}) => {
  await page.goto(hostPage({ bot: BOTS.leadUnsure }));
  const w = await openChat(page);
  await listenForLeads(page);
  await sendMessage(w.input, 'Do you repair stoves?');
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: Do you repair stoves?');
  const form = leadForm(page);
  await expect(form).toBeVisible();
  await expect(form.getByLabel('Name')).toBeFocused();

  await form.getByLabel('Name').fill('Grace Hopper');
  await form.getByLabel('Email').fill('grace@example.com');
  await form.getByRole('button', { name: 'Send details' }).click();
  await expect(w.panel.getByText('Thanks! We will be in touch.')).toBeVisible();
  await expect(w.input).toBeFocused();

  const leads = await adminApi<LeadListItem[]>('GET', `/leads?chatbotId=${BOTS.leadUnsure}`);
  const lead = leads.find((item) => item.email === 'grace@example.com');
  expect(lead).toMatchObject({ name: 'Grace Hopper', pageUrl: expect.stringContaining('/page?') });
  expect(lead?.conversation).not.toBeNull();
  expect(lead?.conversation?.messageCount).toBe(2);
  const events = await page.evaluate(() => (window as unknown as { leadEvents: Array<{ leadId: string }> }).leadEvents);
  expect(events).toEqual([{ leadId: lead?.id }]);
});

test('cannot_answer: an answer found in the knowledge does not ask for details', async ({ page }) => {
  await page.goto(hostPage({ bot: BOTS.leadDocs }));
  const w = await openChat(page);
  await sendMessage(w.input, 'How long does shipping take and is shipping free?');
  await expect(w.lastAnswer.locator('.sources')).toBeVisible();
  await expect(w.lastAnswer.locator('.feedback')).toBeVisible();
  await expect(leadForm(page)).toHaveCount(0);
});

test('human_requested: asking for a person brings the form, other questions do not', async ({ page }) => {
  await page.goto(hostPage({ bot: BOTS.leadHuman }));
  const w = await openChat(page);
  await sendMessage(w.input, 'What are your opening hours?');
  await expect(w.lastAnswer.locator('.bubble')).toHaveText('Echo: What are your opening hours?');
  await expect(leadForm(page)).toHaveCount(0);

  await sendMessage(w.input, 'Can I talk to a real person?');
  const form = leadForm(page);
  await expect(form).toBeVisible();
  await expect(form.getByLabel('Email')).toBeFocused();
  // Required fields, but not before the first message: the visitor may still decline.
  await expect(form.getByRole('button', { name: 'Not now' })).toBeVisible();
});
