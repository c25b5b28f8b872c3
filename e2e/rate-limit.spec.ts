import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { ServerProcess } from '../server/test/server-process.js';
import { openChat, sendMessage } from './support/widget.js';

let server: ServerProcess | null = null;
let url = '';
let dataDir = '';

// A server process of its own with a low per-visitor burst: the shared stack lifts the widget limits.
test.beforeAll(async () => {
  test.setTimeout(120_000);
  dataDir = mkdtempSync(path.join(tmpdir(), 'wisp-e2e-limits-'));
  server = new ServerProcess(
    {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      NODE_ENV: 'development',
      DATA_DIR: dataDir,
      WIDGET_MESSAGES_BURST_PER_VISITOR: '2',
    },
    dataDir,
  );
  url = await server.ready(90_000);
});
test.afterAll(async () => {
  await server?.kill();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('a visitor sending too fast sees how long to wait, and the refused message offers Retry', async ({ page }) => {
  // The demo page embeds the demo bot from the server's own origin.
  await page.goto(`${url}/`);
  const w = await openChat(page);
  for (const text of ['First question', 'Second question', 'Third question']) await sendMessage(w.input, text);

  await expect(w.root.locator('.status.notice')).toHaveText(
    /^Too many messages right now\. Please wait \d+ seconds and try again\.$/,
  );
  const refused = w.messages.filter({ hasText: 'Third question' });
  await expect(refused.getByRole('button', { name: 'Retry' })).toBeVisible();
  await expect(w.messages.filter({ hasText: 'First question' }).getByRole('button', { name: 'Retry' })).toHaveCount(0);
});
