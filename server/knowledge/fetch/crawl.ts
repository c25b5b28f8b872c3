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

/** What became of one address a crawl or sitemap met, for the owner to read back. */
export interface PageOutcome {
  url: string;
  status: 'taken' | 'skipped';
  reason: string | null;
}

export interface UrlReading {
  pages: PageDocument[];
  /** Every page taken and every page skipped (with why), in the order met; at most {@link MAX_OUTCOMES}. */
  outcomes: PageOutcome[];
  finalUrl: string;
  fetchedAt: Date;
}

/** Fetches one URL under the server's safety rules. */
export type Fetcher = (url: string, signal: AbortSignal) => Promise<FetchedResource>;

// Links to these are never pages worth reading.
const NOT_PAGES = /\.(png|jpe?g|gif|webp|svg|ico|css|js|mjs|json|zip|gz|tgz|mp[34]|mov|avi|woff2?|ttf|eot|xml|rss)$/i;
const MAX_SITEMAPS = 10;
export const MAX_OUTCOMES = 1_000;

function reasonOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 300);
}

/** Collects outcomes up to the cap, so a huge site cannot grow the source document without bound. */
class OutcomeLog {
  readonly outcomes: PageOutcome[] = [];
  taken(url: string) {
    this.add({ url, status: 'taken', reason: null });
  }
  skipped(url: string, reason: string) {
    this.add({ url, status: 'skipped', reason });
  }
  private add(outcome: PageOutcome) {
    if (this.outcomes.length < MAX_OUTCOMES) this.outcomes.push({ ...outcome, url: outcome.url.slice(0, 2_000) });
  }
}

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
  return { pages: pages.slice(0, maxPages), beyond: pages.slice(maxPages), finalUrl: first.finalUrl };
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
  const log = new OutcomeLog();
  if (crawl.mode === 'sitemap') {
    const listed = await sitemapPages(fetch, url, crawl.maxPages, signal);
    const pages: PageDocument[] = [];
    for (const [index, pageUrl] of listed.pages.entries()) {
      try {
        pages.push((await readPage(fetch, pageUrl, signal)).page);
        log.taken(pageUrl);
      } catch (error) {
        if (signal.aborted || (index === 0 && listed.pages.length === 1)) throw error;
        log.skipped(pageUrl, reasonOf(error));
      }
    }
    for (const pageUrl of listed.beyond) log.skipped(pageUrl, `over maxPages (${crawl.maxPages})`);
    if (pages.length === 0)
      throw new IngestError(`no page listed in ${listed.finalUrl} could be read`, { retryable: true });
    return { pages, outcomes: log.outcomes, finalUrl: listed.finalUrl, fetchedAt };
  }

  const first = await readPage(fetch, url, signal);
  const pages = [first.page];
  log.taken(first.resource.finalUrl);
  if (crawl.mode === 'site') {
    const origin = new URL(first.resource.finalUrl).origin;
    const seen = new Set([url, first.resource.finalUrl]);
    const queue = first.links.filter((link) => sameOrigin(link, origin));
    while (queue.length > 0 && pages.length < crawl.maxPages) {
      const next = queue.shift() ?? '';
      if (seen.has(next)) continue;
      seen.add(next);
      if (NOT_PAGES.test(new URL(next).pathname)) {
        log.skipped(next, 'not a page (file type)');
        continue;
      }
      try {
        const read = await readPage(fetch, next, signal);
        if (seen.has(read.resource.finalUrl) && read.resource.finalUrl !== next) {
          log.skipped(next, `redirects to ${read.resource.finalUrl}, already read`);
          continue;
        }
        seen.add(read.resource.finalUrl);
        pages.push(read.page);
        log.taken(next);
        queue.push(...read.links.filter((link) => sameOrigin(link, origin) && !seen.has(link)));
      } catch (error) {
        if (signal.aborted) throw error;
        log.skipped(next, reasonOf(error));
      }
    }
    for (const link of new Set(queue.filter((link) => !seen.has(link)))) {
      log.skipped(
        link,
        NOT_PAGES.test(new URL(link).pathname) ? 'not a page (file type)' : `over maxPages (${crawl.maxPages})`,
      );
    }
  }
  return { pages, outcomes: log.outcomes, finalUrl: first.resource.finalUrl, fetchedAt };
}
