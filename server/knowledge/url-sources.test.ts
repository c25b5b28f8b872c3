import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SourceDto } from '../../shared/schemas/sources.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { USER_AGENT } from './fetch/safe-fetch.js';
import { addSource, createBot, FAST_QUEUE_ENV, waitForSource } from './test/knowledge-client.js';
import { htmlPage, startTestSite, type TestSite } from './test/test-site.js';

const filler = (topic: string) =>
  `This paragraph about ${topic} is long enough for the reader view to keep it as part of the article body rather than as boilerplate around it.`;

function page(title: string, fact: string, links: string[] = []) {
  return htmlPage(
    title,
    [
      { heading: 'Overview', id: 'overview', paragraphs: [filler(title), fact] },
      { heading: 'Details', id: 'details', paragraphs: [filler(`${title} details`), filler('more context')] },
    ],
    links,
  );
}

describe('URL sources', () => {
  let site: TestSite;
  let t: TestApp;
  let org: TestOrg;
  let botId: string;

  beforeAll(async () => {
    site = await startTestSite({
      '/help': { body: page('Help centre', 'Support is open from 8am to 6pm, Monday to Friday.') },
      '/moved': { status: 301, headers: { location: '/help' } },
      '/sitemap.xml': {
        contentType: 'application/xml',
        body: `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
          <url><loc>SITE/docs/a</loc></url><url><loc>SITE/docs/b</loc></url><url><loc>SITE/docs/c</loc></url>
          <url><loc>https://elsewhere.example/page</loc></url></urlset>`,
      },
      '/docs/a': {
        body: page('Installing', 'Install the agent with one script tag pasted before the closing body tag.'),
      },
      '/docs/b': { body: page('Billing', 'Invoices are emailed on the first day of every month.') },
      '/docs/c': { body: page('Security', 'All data is encrypted at rest with AES-256.') },
      '/site/': {
        body: page('Home', 'Welcome to the site.', ['/site/one', '/site/two', '/logo.png', 'https://x.example/']),
      },
      '/site/one': { body: page('Page one', 'The warehouse is located in Rotterdam.', ['/site/three', '/site/']) },
      '/site/two': { body: page('Page two', 'Returns are accepted within 60 days.', ['/site/three']) },
      '/site/three': { body: page('Page three', 'The mascot is a blue heron.') },
      '/slow': { body: page('Slow', 'Eventually.'), delayMs: 5_000 },
      '/huge': { body: `<html><body><p>${'x'.repeat(40_000)}</p></body></html>` },
      '/image': { contentType: 'image/png', body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]) },
    });
    // The sitemap names absolute URLs on the test site's own origin.
    site.set('/sitemap.xml', {
      contentType: 'application/xml',
      body: `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${['a', 'b', 'c']
        .map((p) => `<url><loc>${site.url}/docs/${p}</loc></url>`)
        .join('')}<url><loc>https://elsewhere.example/page</loc></url></urlset>`,
    });
    t = await startTestApp({
      env: { ...FAST_QUEUE_ENV, ALLOW_PRIVATE_URLS: 'true', KNOWLEDGE_FETCH_MAX_BYTES: '20000' },
    });
    org = await t.createOrg();
    botId = await createBot(org.api);
  });
  afterAll(async () => {
    await t.stop();
    await site.stop();
  });

  const retrieve = (query: string, chatbotId = botId) =>
    t.app.services.knowledge.retriever.retrieve({ chatbotId, organizationId: org.id }, query);

  it('reads one page without its navigation or footer, following redirects, and cites its section', async () => {
    const source = await addSource(org.api, botId, { type: 'url', url: `${site.url}/moved` });
    const ready = await waitForSource(org.api, source.id);
    expect(ready).toMatchObject({ status: 'ready', title: 'Help centre', finalUrl: `${site.url}/help` });
    expect(ready.lastFetchedAt).not.toBeNull();
    const chunks = await t.app.models.Chunk.find({ sourceId: source.id }).lean();
    const text = chunks.map((c) => c.text).join(' ');
    expect(text).toContain('8am to 6pm');
    expect(text).not.toContain('NAVIGATIONMARKER');
    expect(text).not.toContain('FOOTERMARKER');
    const found = await retrieve('When is support open on Monday?');
    expect(found.passages[0]).toMatchObject({ sourceId: source.id, url: `${site.url}/help#overview` });
    expect(site.requests.find((r) => r.path === '/help')?.userAgent).toBe(USER_AGENT);
  });

  it('reads the pages a sitemap lists on its own site', async () => {
    const source = await addSource(org.api, botId, {
      type: 'url',
      url: `${site.url}/sitemap.xml`,
      crawl: { mode: 'sitemap', maxPages: 10 },
    });
    const ready = await waitForSource(org.api, source.id);
    expect(ready.status).toBe('ready');
    expect(ready.counts.pages).toBe(3);
    const found = await retrieve('How is data encrypted at rest?');
    expect(found.passages[0]).toMatchObject({ sourceId: source.id, title: 'Security › Overview' });
    expect(found.passages[0]?.url).toBe(`${site.url}/docs/c#overview`);
  });

  it('crawls same-site links breadth first up to the page limit', async () => {
    const source = await addSource(org.api, botId, {
      type: 'url',
      url: `${site.url}/site/`,
      crawl: { mode: 'site', maxPages: 3 },
    });
    const ready = await waitForSource(org.api, source.id);
    expect(ready.counts.pages).toBe(3);
    const urls = new Set((await t.app.models.Chunk.find({ sourceId: source.id }).lean()).map((c) => c.url));
    expect(urls).toEqual(new Set([`${site.url}/site/`, `${site.url}/site/one`, `${site.url}/site/two`]));
    expect(site.requests.some((r) => r.path === '/logo.png')).toBe(false);
  });

  it('fails a page that answers 404 with the reason', async () => {
    const source = await addSource(org.api, botId, { type: 'url', url: `${site.url}/missing` });
    const failed = await waitForSource(org.api, source.id);
    expect(failed.status).toBe('failed');
    expect(failed.failureReason).toContain('HTTP 404');
  });

  it('fails a page larger than the limit, and content that is not a document', async () => {
    const huge = await addSource(org.api, botId, { type: 'url', url: `${site.url}/huge` });
    const image = await addSource(org.api, botId, { type: 'url', url: `${site.url}/image` });
    expect((await waitForSource(org.api, huge.id)).failureReason).toContain('larger than the limit');
    expect((await waitForSource(org.api, image.id)).failureReason).toContain('image/png');
  });

  it('fails a page that times out after its retries', async () => {
    const slow = await addSource(org.api, botId, { type: 'url', url: `${site.url}/slow` });
    const failed = await waitForSource(org.api, slow.id);
    expect(failed.status).toBe('failed');
    expect(failed.failureReason).toContain('timed out');
    expect(failed.attempts).toBe(2);
  });

  it('keeps processing other sources while a page is still being fetched', async () => {
    site.set('/held', { body: page('Held', 'The held page finally arrived.'), held: true });
    // A fetch timeout far beyond the test, so the held page is still being fetched whatever the machine's speed.
    const patient = await startTestApp({
      env: { ...FAST_QUEUE_ENV, ALLOW_PRIVATE_URLS: 'true', KNOWLEDGE_FETCH_TIMEOUT_MS: '120000' },
    });
    try {
      const owner = await patient.createOrg();
      const bot = await createBot(owner.api);
      const held = await addSource(owner.api, bot, { type: 'url', url: `${site.url}/held` });
      await vi.waitFor(() => expect(site.requests.map((r) => r.path)).toContain('/held'), { timeout: 20_000 });
      const quick = await Promise.all(
        [1, 2, 3].map((n) =>
          addSource(owner.api, bot, { type: 'text', title: `Quick ${n}`, content: `Quick fact ${n}.` }),
        ),
      );
      for (const source of quick) expect((await waitForSource(owner.api, source.id)).status).toBe('ready');
      const stillFetching = (await owner.api.get<SourceDto>(`/api/v1/sources/${held.id}`)).body.data;
      // The owner sees which step the source is at while it is processed.
      expect(stillFetching).toMatchObject({ status: 'processing', stage: 'fetching', attempts: 1 });
      site.release('/held');
      const ready = await waitForSource(owner.api, held.id);
      expect(ready).toMatchObject({ status: 'ready', stage: null });
    } finally {
      site.release('/held');
      await patient.stop();
    }
  });
});

describe('URL safety', () => {
  let site: TestSite;
  let strict: TestApp;
  let allowListed: TestApp;

  beforeAll(async () => {
    site = await startTestSite({
      '/to-metadata': { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } },
      '/to-loopback': { status: 302, headers: { location: 'http://[::1]:9/' } },
      '/ok': { body: htmlPage('Fine', [{ heading: 'Fine', paragraphs: [filler('fine')] }]) },
    });
    strict = await startTestApp({ env: { ...FAST_QUEUE_ENV, ALLOW_PRIVATE_URLS: 'false' } });
    allowListed = await startTestApp({
      env: { ...FAST_QUEUE_ENV, ALLOW_PRIVATE_URLS: 'false', URL_FETCH_ALLOWED_ADDRESSES: '127.0.0.1' },
    });
  });
  afterAll(async () => {
    await Promise.all([strict.stop(), allowListed.stop()]);
    await site.stop();
  });

  it.each([
    'http://127.0.0.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]/',
    'http://[::ffff:10.0.0.1]/',
    'http://[2002:7f00:1::]/',
    'http://[2002:a9fe:a9fe::1]/latest/meta-data/',
    'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/',
    'http://[64:ff9b::a9fe:a9fe]/',
  ])('refuses %s with 422 before queuing it', async (url) => {
    const org = await strict.createOrg();
    const bot = await createBot(org.api);
    const res = await org.api.post(`/api/v1/chatbots/${bot}/sources`, { type: 'url', url });
    expect(res.status).toBe(422);
    expect(res.body.error?.message).toContain('private, loopback, link-local or reserved');
    expect(await strict.app.models.Source.countDocuments({ chatbotId: bot })).toBe(0);
  });

  it('fails a host name that resolves to a private address, naming the address', async () => {
    const org = await strict.createOrg();
    const bot = await createBot(org.api);
    const source = await addSource(org.api, bot, {
      type: 'url',
      url: site.url.replace('127.0.0.1', 'localhost') + '/ok',
    });
    const failed = await waitForSource(org.api, source.id);
    expect(failed.status).toBe('failed');
    expect(failed.failureReason).toMatch(/refused .*the address (127\.0\.0\.1|::1) is private/);
  });

  it('refuses a redirect to a private address even from an allowed site', async () => {
    const org = await allowListed.createOrg();
    const bot = await createBot(org.api);
    const fine = await addSource(org.api, bot, { type: 'url', url: `${site.url}/ok` });
    expect((await waitForSource(org.api, fine.id)).status).toBe('ready');
    for (const path of ['/to-metadata', '/to-loopback']) {
      const source = await addSource(org.api, bot, { type: 'url', url: `${site.url}${path}` });
      const failed = await waitForSource(org.api, source.id);
      expect(failed.status).toBe('failed');
      expect(failed.failureReason).toMatch(/refused http:\/\/(169\.254\.169\.254|\[::1\]).*private/);
    }
  });
});
