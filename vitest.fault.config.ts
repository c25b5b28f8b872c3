import { defineConfig } from 'vitest/config';

/**
 * The fault suite: real server and database processes killed, stalled or flooded, then what is
 * stored is checked. Run with `npm run test:fault` (part of `npm test`).
 */
export default defineConfig({
  test: {
    include: ['fault/**/*.test.ts'],
    globalSetup: ['server/test/global-setup.ts'],
    testTimeout: 90_000,
    hookTimeout: 90_000,
    pool: 'forks',
    // Each file drives whole processes; one at a time keeps kill timings meaningful on two cores.
    maxWorkers: 1,
    reporters: ['default'],
  },
});
