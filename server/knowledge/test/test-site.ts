import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One page of the test site. */
export interface SitePage {
  status?: number;
  contentType?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Waits this long before answering (for timeouts and slow jobs). */
  delayMs?: number;
  /** Answers only once the test calls `release(path)`. */
  held?: boolean;
}

export interface TestSite {
  url: string;
  /** Every path requested, in order, with the user agent that asked. */
  requests: Array<{ path: string; userAgent: string }>;
  set(path: string, page: SitePage): void;
  /** Answers every waiting and later request of a `held` page. */
  release(path: string): void;
  stop(): Promise<void>;
}

/** A small website served by the test itself on a loopback port. */
export async function startTestSite(pages: Record<string, SitePage> = {}): Promise<TestSite> {
  const routes = new Map(Object.entries(pages));
  const requests: TestSite['requests'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const waiting = new Map<string, Array<() => void>>();
  const released = new Set<string>();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://site').pathname;
    requests.push({ path, userAgent: String(req.headers['user-agent'] ?? '') });
    const page = routes.get(path);
    const answer = () => {
      if (!page) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      res.writeHead(page.status ?? 200, {
        'content-type': page.contentType ?? 'text/html; charset=utf-8',
        ...page.headers,
      });
      res.end(page.body ?? '');
    };
    if (page?.held && !released.has(path)) {
      waiting.set(path, [...(waiting.get(path) ?? []), () => !res.destroyed && answer()]);
    } else if (page?.delayMs) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) answer();
      }, page.delayMs);
      timers.add(timer);
    } else answer();
  };
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    set: (path, page) => routes.set(path, page),
    release: (path) => {
      released.add(path);
      for (const answer of waiting.get(path) ?? []) answer();
      waiting.delete(path);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** An HTML page with navigation and footer boilerplate around an article of `sections`. */
export function htmlPage(
  title: string,
  sections: Array<{ heading: string; id?: string; paragraphs: string[] }>,
  links: string[] = [],
): string {
  const nav = links.map((href) => `<a href="${href}">${href}</a>`).join(' ');
  const article = sections
    .map(
      (section) =>
        `<h2${section.id ? ` id="${section.id}"` : ''}>${section.heading}</h2>\n${section.paragraphs.map((p) => `<p>${p}</p>`).join('\n')}`,
    )
    .join('\n');
  return `<!doctype html><html><head><title>${title}</title></head><body>
<nav class="menu">Home Products Pricing Careers Blog Contact NAVIGATIONMARKER ${nav}</nav>
<main><article><h1>${title}</h1>
${article}
</article></main>
<footer>Copyright FOOTERMARKER. All rights reserved. Privacy Terms Cookies</footer>
</body></html>`;
}
