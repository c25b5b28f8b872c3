import { DOMParser } from 'linkedom';
import type { CrawlSettings } from '../../../shared/schemas/sources.js';
import type { Block } from '../extract/blocks.js';
import { detectKind, extractDocument } from '../extract/extract.js';
import { IngestError } from '../ingest-error.js';
import type { FetchedResource } from './safe-fetch.js';

/** One page read from the web. */
export interface PageDocument {
  title: string;
  url: string;
  blocks: Block[];
}

export interface UrlReading {
  pages: PageDocument[];
  finalUrl: string;
  fetchedAt: Date;
}

/** Fetches one URL under the server's safety rules. */
export type Fetcher = (url: string, signal: AbortSignal) => Promise<FetchedResource>;

// Links to these are never pages worth reading.
const NOT_PAGES = /\.(png|jpe?g|gif|webp|svg|ico|css|js|mjs|json|zip|gz|tgz|mp[34]|mov|avi|woff2?|ttf|eot|xml|rss)$/i;
const MAX_SITEMAPS = 10;

async function readPage(fetch: Fetcher, url: string, signal: AbortSignal) {
  const resource = await fetch(url, signal);
  const kind = detectKind(resource.body, resource.contentType, new URL(resource.finalUrl).pathname);
  if (!kind) {
    throw new IngestError(
      `${resource.finalUrl} is ${resource.contentType || 'an unknown type'}, not a page or document`,
      {
        retryable: false,
      },
    );
  }
  const document = await extractDocument(kind, resource.body, resource.finalUrl);
  const page: PageDocument = {
    title: document.title ?? new URL(resource.finalUrl).hostname,
    url: resource.finalUrl,
    blocks: document.blocks,
  };
  return { page, links: document.links, resource };
}

/** `<loc>` entries of a sitemap or sitemap index. */
function sitemapEntries(xml: string): { pages: string[]; sitemaps: string[] } {
  const document = new DOMParser().parseFromString(xml, 'text/xml') as unknown as Document;
  const locs = (tag: string) =>
    Array.from(document.getElementsByTagName(tag)).flatMap((entry) =>
      Array.from(entry.getElementsByTagName('loc')).map((loc) => (loc.textContent ?? '').trim()),
    );
  return { pages: locs('url').filter(Boolean), sitemaps: locs('sitemap').filter(Boolean) };
}

function sameOrigin(url: string, origin: string): boolean {
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

/** Page addresses a sitemap (and the sitemaps it lists) names on its own site, at most `maxPages`. */
async function sitemapPages(fetch: Fetcher, url: string, maxPages: number, signal: AbortSignal) {
  const first = await fetch(url, signal);
  const origin = new URL(first.finalUrl).origin;
  const pages: string[] = [];
  const pending: string[] = [];
  let resource: FetchedResource | null = first;
  for (let read = 0; resource && read < MAX_SITEMAPS && pages.length < maxPages; read += 1) {
    const entries = sitemapEntries(resource.body.toString('utf8'));
    pages.push(...entries.pages.filter((page) => sameOrigin(page, origin) && !pages.includes(page)));
    pending.push(...entries.sitemaps.filter((sitemap) => sameOrigin(sitemap, origin)));
    const next = pending.shift();
    resource = next ? await fetch(next, signal) : null;
  }
  if (pages.length === 0) throw new IngestError(`${first.finalUrl} lists no pages of its site`, { retryable: false });
  return { pages: pages.slice(0, maxPages), finalUrl: first.finalUrl };
}

/**
 * Reads a `url` source: one page, the pages of a sitemap, or a breadth-first crawl of
 * same-origin links. The first page must succeed; later pages that fail are skipped.
 */
export async function readUrlSource(
  fetch: Fetcher,
  url: string,
  crawl: CrawlSettings,
  signal: AbortSignal,
): Promise<UrlReading> {
  const fetchedAt = new Date();
  if (crawl.mode === 'sitemap') {
    const listed = await sitemapPages(fetch, url, crawl.maxPages, signal);
    const pages: PageDocument[] = [];
    for (const [index, pageUrl] of listed.pages.entries()) {
      try {
        pages.push((await readPage(fetch, pageUrl, signal)).page);
      } catch (error) {
        if (signal.aborted || (index === 0 && listed.pages.length === 1)) throw error;
      }
    }
    if (pages.length === 0)
      throw new IngestError(`no page listed in ${listed.finalUrl} could be read`, { retryable: true });
    return { pages, finalUrl: listed.finalUrl, fetchedAt };
  }

  const first = await readPage(fetch, url, signal);
  const pages = [first.page];
  if (crawl.mode === 'site') {
    const origin = new URL(first.resource.finalUrl).origin;
    const seen = new Set([url, first.resource.finalUrl]);
    const queue = first.links.filter((link) => sameOrigin(link, origin));
    while (queue.length > 0 && pages.length < crawl.maxPages) {
      const next = queue.shift() ?? '';
      if (seen.has(next) || NOT_PAGES.test(new URL(next).pathname)) continue;
      seen.add(next);
      try {
        const read = await readPage(fetch, next, signal);
        if (seen.has(read.resource.finalUrl) && read.resource.finalUrl !== next) continue;
        seen.add(read.resource.finalUrl);
        pages.push(read.page);
        queue.push(...read.links.filter((link) => sameOrigin(link, origin) && !seen.has(link)));
      } catch (error) {
        if (signal.aborted) throw error;
      }
    }
  }
  return { pages, finalUrl: first.resource.finalUrl, fetchedAt };
}
