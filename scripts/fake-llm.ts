/**
 * Runs the fake OpenAI-compatible LLM as a standalone process, for e2e tests,
 * benchmarks and manual runs without the paid API: `tsx scripts/fake-llm.ts`.
 * Listens on `FAKE_LLM_PORT` (default 4010) and `FAKE_LLM_HOST` (default 127.0.0.1): its own variables,
 * so a shell that exports the server's `PORT` and `HOST` does not make the two collide.
 */
import { startFakeLlm } from '../server/test/fake-llm/fake-llm.server.js';

const DEFAULT_PORT = 4010;

function parsePort(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_PORT;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`FAKE_LLM_PORT must be an integer between 0 and 65535, got "${value}"`);
  }
  return port;
}

async function main(): Promise<void> {
  const fake = await startFakeLlm({
    host: process.env.FAKE_LLM_HOST || '127.0.0.1',
    port: parsePort(process.env.FAKE_LLM_PORT),
  });
  console.log(
    `fake LLM at ${fake.url} (set OPENAI_BASE_URL to this, OPENAI_MODEL=fake-chat, OPENAI_EMBEDDING_MODEL=fake-embed)`,
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    fake.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`fake LLM: error while stopping on ${signal}:`, err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error('fake LLM failed to start:', err);
  process.exit(1);
});
