import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { startFakeLlm, type FakeLlm } from '../server/test/fake-llm/fake-llm.server.js';
import { freePort } from '../server/test/redis-server.js';
import { ServerProcess } from '../server/test/server-process.js';
import { openChat, sendMessage } from './support/widget.js';

const servers: ServerProcess[] = [];
let fake: FakeLlm | null = null;
let dataDir = '';

test.afterAll(async () => {
  await Promise.all(servers.map((server) => server.kill()));
  await fake?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

// Two server processes in turn on one port and data directory, as a deploy restarts one node.
test('a server restart lets the streaming answer finish and sends a message typed meanwhile once it is back', async ({
  page,
}) => {
  test.setTimeout(240_000);
  fake = await startFakeLlm({ tokenDelayMs: 150 });
  dataDir = mkdtempSync(path.join(tmpdir(), 'wisp-e2e-restart-'));
  const env = {
    PATH: process.env.PATH ?? '',
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    OPENAI_BASE_URL: fake.url,
    OPENAI_API_KEY: 'test',
    OPENAI_MODEL: 'fake-chat',
    SHUTDOWN_GRACE_MS: '60000',
  };
  const start = () => {
    const server = new ServerProcess(env, dataDir);
    servers.push(server);
    return server;
  };
  const first = start();
  const url = await first.ready(90_000);

  await page.goto(`${url}/`);
  const w = await openChat(page);
  await sendMessage(w.input, 'Tell me everything #long');
  const longAnswer = w.answers.first();
  await expect(longAnswer.locator('.bubble')).not.toBeEmpty();

  first.child.kill('SIGTERM');
  await first.waitForOutput(/"msg":"shutting down"/);
  await sendMessage(w.input, 'Typed during the restart');
  await expect(w.root.locator('.status.notice')).toHaveText(/restarting/);
  // The answer that was streaming arrives whole: it ends with its feedback buttons.
  await expect(longAnswer.locator('.feedback button')).toHaveCount(2, { timeout: 60_000 });
  expect((await longAnswer.locator('.bubble').innerText()).split(/\s+/).length).toBeGreaterThanOrEqual(50);
  expect(await first.exit(90_000)).toEqual({ code: 0, signal: null });

  await start().ready(90_000);
  const second = w.answers.nth(1);
  await expect(second.locator('.feedback button')).toHaveCount(2, { timeout: 90_000 });
  // Sent once, and not left failed.
  const typed = w.root.locator('.messages li.message.user').filter({ hasText: 'Typed during the restart' });
  await expect(typed).toHaveCount(1);
  await expect(typed.getByRole('button', { name: 'Retry' })).toHaveCount(0);
  await expect(w.root.locator('.status.notice')).toHaveCount(0);
});
