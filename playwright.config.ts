import { defineConfig, devices } from '@playwright/test';
import { HOST_ORIGIN } from './e2e/stack/ports.js';

/**
 * End-to-end tests in Debian's Chromium (no downloaded browsers) against the real server with the
 * embedded database and the test model server, loading the built widget into host pages served
 * from another origin. `npm run test:e2e` builds the widget first.
 */
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  fullyParallel: true,
  workers: 2,
  retries: 0,
  timeout: 45_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: 'reports/e2e.json' }]],
  outputDir: 'test-results',
  use: {
    baseURL: HOST_ORIGIN,
    ...devices['Desktop Chrome'],
    viewport: { width: 1280, height: 800 },
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    trace: 'retain-on-failure',
  },
  webServer: {
    command: 'npx tsx e2e/stack/start-stack.ts',
    url: `${HOST_ORIGIN}/health`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
