import type { TestProject } from 'vitest/node';
import { startEmbeddedDb, type EmbeddedDb } from '../db/embedded-db.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
  }
}

let embedded: EmbeddedDb | null = null;

/**
 * One database server per test run: the embedded engine in memory, or the real
 * MongoDB named by MONGODB_URI. Each test file then uses a database of its own.
 */
export async function setup(project: TestProject): Promise<void> {
  // Read once here: the test run's only other view of the environment is the config each app gets.
  const external = process.env.MONGODB_URI;
  if (external) {
    project.provide('mongoUri', external);
    return;
  }
  embedded = await startEmbeddedDb();
  project.provide('mongoUri', embedded.uri);
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
}
