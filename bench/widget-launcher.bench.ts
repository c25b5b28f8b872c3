/**
 * Launcher timing in Chromium: from the moment widget.js starts running to the launcher painted,
 * and from navigation start, over fresh browser contexts (cold: no HTTP cache, nothing kept in
 * localStorage, so the launcher paints from the defaults) and reloads (warm: cached script, and the
 * launcher paints from the config kept in localStorage); the launcher no longer waits for
 * `/widget-config`, so that wait is timed apart (script start until the bot's own config is on the
 * launcher). Then the time from the first click on the launcher to the panel on screen (the chat
 * chunk fetched, run and rendered). Starts the e2e stack on its own ports (E2E_API_PORT,
 * E2E_HOST_PORT; 4330 and 4331 by default).
 * Run: npx tsx bench/widget-launcher.bench.ts (after npm run build:widget).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from '@playwright/test';
import { percentile } from './percentile.js';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 20);
const API_PORT = Number(process.env.E2E_API_PORT ?? 4330);
const HOST_PORT = Number(process.env.E2E_HOST_PORT ?? 4331);
const root = fileURLToPath(new URL('..', import.meta.url));

const fmt = (values: number[]) =>
  `p50 ${percentile(values, 50).toFixed(1)} ms, p95 ${percentile(values, 95).toFixed(1)} ms`;

async function startStack() {
  const child = spawn(process.execPath, ['--import', 'tsx', 'e2e/stack/start-stack.ts'], {
    cwd: root,
    env: { ...process.env, E2E_API_PORT: String(API_PORT), E2E_HOST_PORT: String(HOST_PORT) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (data: Buffer) => {
      if (data.toString().includes('e2e stack ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the e2e stack exited with ${code}`)));
  });
  return child;
}

async function launcherTimes(
  page: Page,
): Promise<{ fromScript: number; fromNavigation: number; configFromScript: number }> {
  await page.locator('wisp-widget .launcher').waitFor({ state: 'visible' });
  // Plain expressions only: tsx wraps named inner functions in a helper the page does not have.
  await page.waitForFunction(() => performance.getEntriesByName('wisp:launcher-visible').length > 0);
  await page.waitForFunction(() => (window as { wispConfigAt?: number }).wispConfigAt !== undefined);
  const configured = await page.evaluate(() => (window as { wispConfigAt?: number }).wispConfigAt!);
  return page.evaluate((configuredAt) => {
    const scriptStart = performance.getEntriesByName('wisp:script-start')[0]!.startTime;
    const visible = performance.getEntriesByName('wisp:launcher-visible')[0]!.startTime;
    return { fromScript: visible - scriptStart, fromNavigation: visible, configFromScript: configuredAt - scriptStart };
  }, configured);
}

/** Runs in the page before its scripts (a string, so tsx adds no helpers to it). */
const WATCH_CONFIG = `(() => {
  const check = () => {
    const label = document.querySelector('wisp-widget')?.shadowRoot?.querySelector('.launcher')?.getAttribute('aria-label') ?? '';
    if (/Open chat with /.test(label)) window.wispConfigAt = performance.now();
    else if (performance.now() < 30000) requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();`;

const stack = await startStack();
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'],
});
const url = `http://127.0.0.1:${HOST_PORT}/page?bot=e2e-echo`;
try {
  const cold = { fromScript: [] as number[], fromNavigation: [] as number[], configFromScript: [] as number[] };
  const warm = { fromScript: [] as number[], fromNavigation: [] as number[], configFromScript: [] as number[] };
  const open: number[] = [];
  for (let i = 0; i < SAMPLES; i += 1) {
    const context = await browser.newContext();
    // From the page's start, every frame: the bot's config is on the launcher once its label names the bot.
    await context.addInitScript(WATCH_CONFIG);
    const page = await context.newPage();
    await page.goto(url);
    const first = await launcherTimes(page);
    cold.fromScript.push(first.fromScript);
    cold.fromNavigation.push(first.fromNavigation);
    cold.configFromScript.push(first.configFromScript);

    const clicked = Date.now();
    await page.locator('wisp-widget .launcher').click();
    await page.locator('wisp-widget .composer textarea').waitFor({ state: 'visible' });
    open.push(Date.now() - clicked);
    await page.keyboard.press('Escape');

    await page.reload();
    const again = await launcherTimes(page);
    warm.fromScript.push(again.fromScript);
    warm.fromNavigation.push(again.fromNavigation);
    warm.configFromScript.push(again.configFromScript);
    await context.close();
  }
  console.log(`Chromium ${browser.version()}, ${SAMPLES} samples each, server on loopback`);
  console.log(`launcher visible after script start, cold (defaults): ${fmt(cold.fromScript)}`);
  console.log(`launcher visible after script start, warm (kept config): ${fmt(warm.fromScript)}`);
  console.log(`launcher visible after navigation start, cold:   ${fmt(cold.fromNavigation)}`);
  console.log(`launcher visible after navigation start, warm:   ${fmt(warm.fromNavigation)}`);
  console.log(`bot's config on the launcher after script start, cold: ${fmt(cold.configFromScript)}`);
  console.log(`bot's config on the launcher after script start, warm: ${fmt(warm.configFromScript)}`);
  console.log(`first open, click to panel shown (chat chunk fetched and rendered): ${fmt(open)}`);
} finally {
  await browser.close();
  stack.kill('SIGTERM');
}
