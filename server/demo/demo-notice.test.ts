import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { startTestApp, type TestApp } from '../test/test-app.js';

describe('the demo page at start', () => {
  let t: TestApp | null = null;
  afterEach(async () => {
    await t?.stop();
    t = null;
  });

  /** Starts the real app with the production logger writing into memory; returns its log messages. */
  async function start(env: Record<string, string>) {
    const written: string[] = [];
    t = await startTestApp({ env, logger: createLogger('info', { write: (line: string) => void written.push(line) }) });
    return written.map((line) => (JSON.parse(line) as { msg: string }).msg);
  }

  it('says once, with its address, that the demo page is on because NODE_ENV is not production', async () => {
    const messages = await start({ NODE_ENV: 'development' });
    const notices = messages.filter((msg) => msg.startsWith('demo page enabled'));
    expect(notices).toEqual([`demo page enabled at ${t!.url}/ because NODE_ENV is not production`]);
    const page = await fetch(`${t!.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it('names PUBLIC_URL in the notice when it is set', async () => {
    const messages = await start({ NODE_ENV: 'development', PUBLIC_URL: 'https://wisp.example.com' });
    expect(messages).toContain('demo page enabled at https://wisp.example.com/ because NODE_ENV is not production');
  });

  it('in production serves no demo page and says nothing about one', async () => {
    const messages = await start({ NODE_ENV: 'production' });
    expect(messages.filter((msg) => msg.includes('demo page'))).toEqual([]);
    expect((await fetch(`${t!.url}/`)).status).toBe(404);
  });
});
