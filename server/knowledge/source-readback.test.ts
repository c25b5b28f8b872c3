import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceChunkDto, SourcePageDto } from '../../shared/schemas/sources.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';
import { addSource, createBot, FAST_QUEUE_ENV, waitForSource } from './test/knowledge-client.js';
import { htmlPage, startTestSite, type TestSite } from './test/test-site.js';

const filler = (topic: string) =>
  `This paragraph about ${topic} is long enough for the reader view to keep it as part of the article body rather than as boilerplate around it.`;
const page = (title: string, fact: string, links: string[] = []) =>
  htmlPage(title, [{ heading: 'Overview', id: 'overview', paragraphs: [filler(title), fact] }], links);

describe('reading knowledge back', () => {
  let site: TestSite;
  let t: TestApp;
  let org: TestOrg;
  let botId: string;

  beforeAll(async () => {
    site = await startTestSite({
      '/docs/a': { body: page('Installing', 'Paste one script tag before the closing body tag.') },
      '/docs/b': { body: page('Billing', 'Invoices are emailed on the first day of every month.') },
      '/docs/c': { body: page('Security', 'All data is encrypted at rest.') },
      '/site/': { body: page('Home', 'Welcome.', ['/site/one', '/logo.png', '/site/missing', '/site/two']) },
      '/site/one': { body: page('Page one', 'The warehouse is in Rotterdam.') },
      '/site/two': { body: page('Page two', 'Returns within 60 days.') },
    });
    site.set('/sitemap.xml', {
      contentType: 'application/xml',
      body: `<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">${['a', 'gone', 'b', 'c']
        .map((p) => `<url><loc>${site.url}/docs/${p}</loc></url>`)
        .join('')}</urlset>`,
    });
    t = await startTestApp({ env: { ...FAST_QUEUE_ENV, ALLOW_PRIVATE_URLS: 'true' } });
    org = await t.createOrg('Readback');
    botId = await createBot(org.api);
  });
  afterAll(async () => {
    await t.stop();
    await site.stop();
  });

  it('lists the passages a source was indexed as, in order, with heading, size and pagination', async () => {
    const source = await addSource(org.api, botId, {
      type: 'text',
      title: 'Handbook',
      content: `# Shipping\n\nWe ship within 3 days.\n\n# Returns\n\nReturn unused items within 30 days.\n\n## Refunds\n\nRefunds take 5 days.`,
    });
    const ready = await waitForSource(org.api, source.id);
    expect(ready.status).toBe('ready');
    const all = await org.api.get<SourceChunkDto[]>(`/api/v1/sources/${source.id}/chunks`);
    expect(all.status).toBe(200);
    expect(all.body.meta).toEqual({ page: 1, perPage: 20, total: ready.counts.chunks });
    expect(all.body.data.map((chunk) => chunk.position)).toEqual([...all.body.data.keys()]);
    const text = all.body.data.map((chunk) => chunk.text).join('\n');
    expect(text).toContain('We ship within 3 days.');
    expect(text).toContain('Refunds take 5 days.');
    const refunds = all.body.data.find((chunk) => chunk.text.includes('Refunds take'));
    expect(refunds).toMatchObject({ title: 'Handbook', heading: expect.stringContaining('Refunds'), url: null });
    expect(refunds!.characters).toBe(refunds!.text.length);
    expect(refunds!.tokens).toBeGreaterThan(0);

    const second = await org.api.get<SourceChunkDto[]>(`/api/v1/sources/${source.id}/chunks?page=2&perPage=1`);
    expect(second.body.data).toEqual(all.body.data.slice(1, 2));
  });

  it('keeps chunks to the owning organization and the knowledge:read scope', async () => {
    const source = await addSource(org.api, botId, { type: 'text', title: 'Private', content: 'Only ours.' });
    await waitForSource(org.api, source.id);
    const other = await t.createOrg('Other');
    const foreign = await other.api.get(`/api/v1/sources/${source.id}/chunks`);
    expect(foreign.status).toBe(404);
    expect(JSON.stringify(foreign.body)).not.toContain('Only ours');
    const chatOnly = await t.clientWithScopes(org, ['chat']);
    const refused = await chatOnly.get(`/api/v1/sources/${source.id}/chunks`);
    expect(refused.status).toBe(403);
    expect((await t.anonymous.get(`/api/v1/sources/${source.id}/pages`)).status).toBe(401);
  });

  it('lists the pages a sitemap took and skipped, with the reason for each skip', async () => {
    const source = await addSource(org.api, botId, {
      type: 'url',
      url: `${site.url}/sitemap.xml`,
      crawl: { mode: 'sitemap', maxPages: 3 },
    });
    expect((await waitForSource(org.api, source.id)).status).toBe('ready');
    const pages = await org.api.get<SourcePageDto[]>(`/api/v1/sources/${source.id}/pages`);
    expect(pages.status).toBe(200);
    expect(pages.body.data).toEqual([
      { url: `${site.url}/docs/a`, status: 'taken', reason: null },
      { url: `${site.url}/docs/gone`, status: 'skipped', reason: expect.stringContaining('404') },
      { url: `${site.url}/docs/b`, status: 'taken', reason: null },
      { url: `${site.url}/docs/c`, status: 'skipped', reason: 'over maxPages (3)' },
    ]);
    expect(pages.body.meta?.total).toBe(4);
  });

  it('lists the pages a site crawl took and skipped', async () => {
    const source = await addSource(org.api, botId, {
      type: 'url',
      url: `${site.url}/site/`,
      crawl: { mode: 'site', maxPages: 2 },
    });
    expect((await waitForSource(org.api, source.id)).status).toBe('ready');
    const pages = await org.api.get<SourcePageDto[]>(`/api/v1/sources/${source.id}/pages?perPage=100`);
    const byUrl = new Map(pages.body.data.map((p) => [p.url.replace(site.url, ''), p]));
    expect(byUrl.get('/site/')).toMatchObject({ status: 'taken' });
    expect(byUrl.get('/site/one')).toMatchObject({ status: 'taken' });
    expect(byUrl.get('/logo.png')).toMatchObject({ status: 'skipped', reason: 'not a page (file type)' });
    expect(byUrl.get('/site/two')).toMatchObject({ status: 'skipped', reason: 'over maxPages (2)' });
  });
});
