import { expect, test } from '@playwright/test';
import { API_ORIGIN } from './stack/ports.js';

test('the API reference renders every operation under the server’s CSP, with an example request', async ({ page }) => {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${API_ORIGIN}/docs`);
  // Swagger UI builds the whole reference (its bundle and a large document) in the page: on two loaded cores, with the
  // other worker's browser beside it, its first render has taken over 10 s.
  await expect(page.locator('.opblock').first()).toBeVisible({ timeout: 30_000 });
  expect(await page.locator('.opblock').count()).toBeGreaterThan(30);

  // Swagger UI names an operation's block by its operationId.
  const create = page.locator('#operations-Chatbots-chatbotsCreate');
  await create.locator('.opblock-summary').click();
  await expect(create.getByText('curl -X POST "$WISP/api/v1/chatbots"')).toBeVisible();
  await expect(create.locator('.body-param__example, .microlight').first()).toContainText('Acme support');
  await page.screenshot({ path: 'test-results/api-docs.png', fullPage: false });
  expect(problems).toEqual([]);
});
