import { createServer, type Server } from 'node:http';
import { API_ORIGIN, HOST_PORT } from './ports.js';

/**
 * Host pages on their own origin, as a customer's site would be. Options by query:
 * `bot`, `css=hostile` (aggressive resets), `csp=strict` (no inline script or style, only the API's
 * origin allowed), `twice=1` (the snippet pasted twice), `settings=1` (a WispSettings script).
 */
const HOSTILE_CSS = `
* { all: unset !important; }
html, body { display: block !important; font: 40px/3 "Comic Sans MS", cursive !important; color: red !important;
  background: yellow !important; letter-spacing: 6px !important; text-transform: uppercase !important; }
:root { --wisp-radius: 0px; --wisp-primary: red; --wisp-font-size: 40px; --wisp-panel-width: 90px; }
button { color: red !important; background: lime !important; border: 5px solid red !important; padding: 20px !important; }
div, p, ol, li, span, textarea, svg, h2, form, header { color: red !important; font-size: 30px !important; margin: 13px !important; }
wisp-widget { display: none !important; transform: scale(0.3) !important; filter: blur(4px) !important; }
`;

const RETURNS_PAGE = `<!doctype html><html><head><title>Returns policy</title></head><body>
<h1>Returns policy</h1><p>Unused tents and packs can be returned within 30 days for a full refund. The return label is free.</p>
</body></html>`;

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function page(url: URL): { html: string; csp: string | null } {
  const bot = url.searchParams.get('bot') ?? '';
  const scriptTag = `<script src="${API_ORIGIN}/widget.js" data-bot="${escape(bot)}" async></script>`;
  const other = new URL(url);
  other.pathname = url.pathname === '/other' ? '/page' : '/other';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Host page ${escape(url.pathname)}</title>
${url.searchParams.get('css') === 'hostile' ? '<link rel="stylesheet" href="/hostile.css">' : '<link rel="stylesheet" href="/plain.css">'}
${url.searchParams.get('settings') === '1' ? '<script src="/settings.js"></script>' : ''}
</head><body>
<h1>Trailhead Supplies</h1>
<p><a id="first-link" href="${escape(other.pathname + other.search)}">Go to another page</a></p>
<p>Everything for your next hike. Ask our assistant in the corner.</p>
${scriptTag}
${url.searchParams.get('twice') === '1' ? scriptTag : ''}
</body></html>`;
  const csp =
    url.searchParams.get('csp') === 'strict'
      ? [
          "default-src 'none'",
          `script-src 'self' ${API_ORIGIN}`,
          `connect-src ${API_ORIGIN} ${API_ORIGIN.replace('http', 'ws')}`,
          `img-src 'self' ${API_ORIGIN} data:`,
          "style-src 'self'",
          "base-uri 'none'",
          "form-action 'none'",
        ].join('; ')
      : null;
  return { html, csp };
}

/** A loopback shop the actions bot's `cancel_order` action calls: cancels by order number, counting each call. */
const cancelled = new Map<string, number>();

export function startHostPages(): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${HOST_PORT}`);
    const send = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
      res.end(body);
    };
    if (url.pathname === '/health') return send(200, 'text/plain', 'ok');
    if (url.pathname === '/hostile.css') return send(200, 'text/css', HOSTILE_CSS);
    if (url.pathname === '/plain.css')
      return send(200, 'text/css', 'body { font: 16px/1.5 Georgia, serif; margin: 2rem; }');
    if (url.pathname === '/settings.js') {
      return send(200, 'text/javascript', "window.WispSettings = { position: 'bottom-left', locale: 'en' };");
    }
    if (url.pathname === '/returns.html') return send(200, 'text/html', RETURNS_PAGE);
    const cancel = /^\/api\/orders\/(\w+)\/cancel$/.exec(url.pathname);
    if (cancel && req.method === 'POST') {
      cancelled.set(cancel[1]!, (cancelled.get(cancel[1]!) ?? 0) + 1);
      return send(200, 'application/json', JSON.stringify({ orderNumber: cancel[1], status: 'cancelled' }));
    }
    if (url.pathname === '/api/orders/calls') {
      return send(
        200,
        'application/json',
        JSON.stringify({ calls: cancelled.get(url.searchParams.get('order') ?? '') ?? 0 }),
      );
    }
    if (url.pathname === '/page' || url.pathname === '/other') {
      const { html, csp } = page(url);
      return send(200, 'text/html; charset=utf-8', html, csp ? { 'content-security-policy': csp } : {});
    }
    send(404, 'text/plain', 'not found');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(HOST_PORT, '127.0.0.1', () => resolve(server));
  });
}
