import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestOrg } from './test/test-app.js';
import { ensureDemoBot } from './demo/demo-bot.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const README_HOST = 'http://127.0.0.1:3000';

/** Every `curl` command of README's fenced `sh` blocks, continuation lines joined, in order. */
function curlExamples(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '');
  return blocks.flatMap((block) =>
    block
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('curl ')),
  );
}

describe('README’s curl examples, run against a real server', () => {
  let t: TestApp;
  let org: TestOrg;

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('README');
    // What `npm run demo` does on a fresh install: the demo bot in the first organization.
    await ensureDemoBot(t.app.models, t.app.services, pino({ level: 'silent' }));
  });
  afterAll(() => t.stop());

  it('finds the examples: create a bot, add knowledge, chat as JSON and as a stream', () => {
    const examples = curlExamples(README);
    expect(examples.length).toBeGreaterThanOrEqual(4);
    expect(examples.some((cmd) => cmd.includes('/api/v1/chatbots ') && cmd.includes('"name"'))).toBe(true);
    expect(examples.some((cmd) => cmd.includes('/sources') && cmd.includes('"title"'))).toBe(true);
    expect(examples.filter((cmd) => cmd.includes('"chatbot": "demo"'))).toHaveLength(2);
  });

  it('each succeeds with the documented shape, in README order', async () => {
    const run = promisify(execFile);
    for (const example of curlExamples(README)) {
      const command = `${example.replaceAll(README_HOST, t.url)} -w '\\n%{http_code}'`;
      const { stdout } = await run('bash', ['-c', command], {
        env: { PATH: process.env.PATH ?? '', KEY: org.adminKey },
        timeout: 30_000,
      });
      const status = Number(stdout.slice(stdout.lastIndexOf('\n') + 1));
      const body = stdout.slice(0, stdout.lastIndexOf('\n'));
      expect(status, `${example}\n${body}`).toBeGreaterThanOrEqual(200);
      expect(status, `${example}\n${body}`).toBeLessThan(300);
      if (example.includes(`${README_HOST}/v1/`)) {
        // The OpenAI-compatible door answers OpenAI's own objects, not the envelope.
        const answer = JSON.parse(body) as { object: string; choices?: Array<{ message: { content: string } }> };
        expect(answer.object, example).toMatch(/^(list|chat\.completion)$/);
        if (answer.object === 'chat.completion')
          expect(answer.choices?.[0]?.message.content).toEqual(expect.any(String));
      } else if (example.includes('"stream": true')) {
        expect(body).toMatch(/^data: \{"chunk":/m);
        expect(body).toMatch(/^data: \{"done":true,.*"response":/m);
        expect(body.trimEnd().endsWith('data: [DONE]')).toBe(true);
      } else {
        const envelope = JSON.parse(body) as { data: Record<string, unknown> | null; error: unknown };
        expect(envelope.error, example).toBeNull();
        expect(envelope.data, example).toEqual(expect.objectContaining({}));
        if (example.includes('/api/v1/chat ')) expect(envelope.data?.response).toEqual(expect.any(String));
      }
    }
  });
});
