import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { expect, type Page } from '@playwright/test';
import type { ChatbotDto } from '../../shared/schemas/chatbots.js';
import { API_ORIGIN, E2E_ADMIN_KEY } from '../stack/ports.js';
import { adminApi } from './api.js';

export const CONSOLE = `${API_ORIGIN}/console/`;
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Signs in with the seeded admin key, as an owner pasting it would. */
export async function signIn(page: Page, hash = ''): Promise<void> {
  await page.goto(`${CONSOLE}${hash}`);
  await page.getByLabel('API key').fill(E2E_ADMIN_KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

/** Opens a console page from the navigation and waits for its heading. */
export async function openPage(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeFocused();
}

export async function chooseBot(page: Page, name: string): Promise<void> {
  await page.getByRole('combobox', { name: 'Bot', exact: true }).first().selectOption({ label: name });
}

/** axe-core on the page as it is: no serious or critical accessibility issue. */
export async function expectAccessible(page: Page): Promise<void> {
  // Evaluated through the browser's debugging protocol, so the console's strict CSP does not stop it.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            context: unknown,
            options: unknown,
          ): Promise<{ violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: unknown }> }> }>;
        };
      }
    ).axe;
    const result = await axe.run({ exclude: [['iframe']] }, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
  });
  expect(violations).toEqual([]);
}

export async function createBot(name: string): Promise<ChatbotDto> {
  return adminApi<ChatbotDto>('POST', '/chatbots', { name });
}
