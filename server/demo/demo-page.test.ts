import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../test/test-app.js';

async function page(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.text();
}

describe('the demo page', () => {
  let t: TestApp;
  let proxied: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    proxied = await startTestApp({ env: { PUBLIC_URL: 'https://chat.example.com/' } });
    for (const app of [t, proxied]) {
      const org = await app.createOrg('Demo');
      await org.api.post('/api/v1/chatbots', { name: 'Northwind helper', slug: `demo-${app.app.port}` });
    }
  });
  afterAll(async () => {
    await t.stop();
    await proxied.stop();
  });

  it('shows an embed snippet with the real host and the bot’s slug, ready to copy', async () => {
    const html = await page(`${t.url}/`);
    expect(html).not.toContain('YOUR-WISP-HOST');
    expect(html).toContain(
      `&lt;script src=&quot;${t.url}/widget.js&quot; data-bot=&quot;demo-${t.app.port}&quot; async&gt;&lt;/script&gt;`,
    );
  });

  it('names PUBLIC_URL in the snippet when the server sits behind a proxy', async () => {
    const html = await page(`${proxied.url}/`);
    expect(html).toContain(`&lt;script src=&quot;https://chat.example.com/widget.js&quot;`);
  });

  it('wraps the snippet instead of overflowing, and has a favicon', async () => {
    const html = await page(`${t.url}/`);
    expect(html).toMatch(/pre \{[^}]*white-space: pre-wrap/);
    expect(html).toContain('<link rel="icon" href="/favicon.ico">');
    const icon = await fetch(`${t.url}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/x-icon');
    // An ICO header: reserved 0, type 1 (icon).
    expect([...new Uint8Array(await icon.arrayBuffer()).slice(0, 4)]).toEqual([0, 0, 1, 0]);
  });
});
