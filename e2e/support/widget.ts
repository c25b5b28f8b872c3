import { expect, type Locator, type Page } from '@playwright/test';
import { BOTS } from '../stack/ports.js';

export interface HostPageOptions {
  bot?: string;
  css?: 'hostile' | 'plain';
  csp?: 'strict';
  twice?: boolean;
  settings?: boolean;
  path?: '/page' | '/other';
}

/** The URL of a host page (on the host origin) embedding the widget. */
export function hostPage(options: HostPageOptions = {}): string {
  const query = new URLSearchParams({ bot: options.bot ?? BOTS.echo });
  if (options.css) query.set('css', options.css);
  if (options.csp) query.set('csp', options.csp);
  if (options.twice) query.set('twice', '1');
  if (options.settings) query.set('settings', '1');
  return `${options.path ?? '/page'}?${query}`;
}

/** Locators inside the widget's shadow root (Playwright's CSS engine pierces open shadow roots). */
export function widget(page: Page) {
  const root = page.locator('wisp-widget');
  return {
    root,
    launcher: root.locator('.launcher'),
    panel: root.locator('#wisp-panel'),
    input: root.locator('.composer textarea'),
    send: root.locator('.composer .send'),
    messages: root.locator('.messages li.message:not(.welcome)'),
    answers: root.locator('.messages li.message.assistant:not(.welcome)'),
    lastAnswer: root.locator('.messages li.message.assistant:not(.welcome)').last(),
    status: root.locator('.status'),
  };
}

/** Opens the panel with the launcher and waits until the socket is online. */
export async function openChat(page: Page): Promise<ReturnType<typeof widget>> {
  const w = widget(page);
  await w.launcher.click();
  await expect(w.panel).toBeVisible();
  await expect(w.input).toBeEnabled();
  return w;
}

/** Types a message and presses Enter. */
export async function sendMessage(input: Locator, text: string): Promise<void> {
  await input.fill(text);
  await input.press('Enter');
}

/** Fails the test if any JavaScript dialog opens (an XSS payload that ran). */
export function failOnDialogs(page: Page): void {
  page.on('dialog', (dialog) => {
    void dialog.dismiss();
    throw new Error(`unexpected dialog: ${dialog.message()}`);
  });
}
