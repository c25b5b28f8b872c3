import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import type { ApiRouter } from '../http/api-router.js';

/** Generates the OpenAPI 3.1 document from the routes' own zod schemas. */
export function buildOpenApiDocument(api: ApiRouter, serverUrl: string) {
  const generator = new OpenApiGeneratorV31(api.registry.definitions);
  return generator.generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Wisp API',
      version: '1.0.0',
      description:
        'Every response is `{ "success": true, "data": ..., "error": null }` or `{ "success": false, "data": null, "error": { "name", "message", "details" } }`. ' +
        'Lists take `page` and `perPage` (or `per_page`; max 100) and answer `meta: { page, perPage, total }`. ' +
        'Routes tagged `compatibility` accept requests written for other chatbot APIs.',
    },
    servers: [{ url: serverUrl }],
  });
}

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Wisp API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/docs.css"></head>
<body><main id="docs"><h1>Wisp API</h1><p>Loading <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>…</p></main>
<script src="/docs/docs.js"></script></body></html>`;

const DOCS_CSS = `body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1f2937;background:#f9fafb}
main{max-width:920px;margin:0 auto;padding:24px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;margin:12px 0;padding:12px 16px}
code{background:#f3f4f6;padding:1px 4px;border-radius:4px}
.m{display:inline-block;min-width:64px;font-weight:700;text-transform:uppercase}
.get{color:#047857}.post{color:#1d4ed8}.patch,.put{color:#b45309}.delete{color:#b91c1c}
small{color:#6b7280}`;

// Plain DOM building (no innerHTML) keeps the page safe under the strict CSP helmet sets.
const DOCS_JS = `fetch('/api/v1/openapi.json').then(r=>r.json()).then(doc=>{
const main=document.getElementById('docs');main.textContent='';
const el=(t,c,txt)=>{const e=document.createElement(t);if(c)e.className=c;if(txt!==undefined)e.textContent=txt;return e};
main.append(el('h1','',doc.info.title+' '+doc.info.version),el('p','',doc.info.description));
const link=el('a','','OpenAPI document (JSON)');link.href='/api/v1/openapi.json';main.append(link);
for(const [path,ops] of Object.entries(doc.paths)){for(const [method,op] of Object.entries(ops)){
const s=el('section');const h=el('div');h.append(el('span','m '+method,method),el('code','',path));
s.append(h,el('p','',op.summary||''),el('small','',(op.description||'')+' Responses: '+Object.keys(op.responses).join(', ')));main.append(s)}}});`;

/** `/api/v1/openapi.json` and a small readable docs page at `/docs`. */
export function openApiRoutes(api: ApiRouter, publicUrl: () => string): Router {
  const router = Router();
  let cached: unknown = null;
  router.get('/api/v1/openapi.json', (_req, res) => {
    cached ??= buildOpenApiDocument(api, `${publicUrl()}`);
    res.json(cached);
  });
  router.get('/docs', (_req, res) => res.type('html').send(DOCS_PAGE));
  router.get('/docs/docs.css', (_req, res) => res.type('css').send(DOCS_CSS));
  router.get('/docs/docs.js', (_req, res) => res.type('js').send(DOCS_JS));
  return router;
}
