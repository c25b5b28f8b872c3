import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Router } from 'express';
import { withOperationIds } from '../../sdk/codegen/operations.mjs';
import type { ApiRouter } from '../http/api-router.js';

/**
 * Generates the OpenAPI 3.1 document from the routes' own zod schemas. Every operation's `operationId` is
 * its SDK name (sdk/codegen/operations.mjs), so the document and the SDKs name operations alike.
 */
export function buildOpenApiDocument(api: ApiRouter, serverUrl: string) {
  const generator = new OpenApiGeneratorV31(api.registry.definitions);
  const document = generator.generateDocument({
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
  return withOperationIds(document);
}

// Swagger UI from the `swagger-ui-dist` package, served by this server (no CDN).
const SWAGGER_UI_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const SWAGGER_UI_FILES = ['swagger-ui-bundle.js', 'swagger-ui.css'];

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Wisp API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/favicon.ico">
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="docs"><noscript>The reference needs JavaScript; the document itself is at
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</noscript></div>
<script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/docs.js"></script></body></html>`;

// An external script: helmet's CSP allows no inline script.
const DOCS_JS = `window.ui = SwaggerUIBundle({
  url: '/api/v1/openapi.json', dom_id: '#docs', deepLinking: true, filter: true,
  docExpansion: 'list', defaultModelsExpandDepth: 0, tryItOutEnabled: false,
  displayRequestDuration: true, persistAuthorization: false,
});`;

/** `/api/v1/openapi.json` and the API reference at `/docs` (Swagger UI over that document). */
export function openApiRoutes(api: ApiRouter, publicUrl: () => string): Router {
  const router = Router();
  let cached: unknown = null;
  router.get('/api/v1/openapi.json', (_req, res) => {
    cached ??= buildOpenApiDocument(api, `${publicUrl()}`);
    res.json(cached);
  });
  router.get('/docs', (_req, res) => res.type('html').send(DOCS_PAGE));
  router.get('/docs/docs.js', (_req, res) => res.type('js').send(DOCS_JS));
  for (const file of SWAGGER_UI_FILES) {
    router.get(`/docs/${file}`, (_req, res) => {
      res.sendFile(path.join(SWAGGER_UI_DIR, file), { maxAge: '1h' });
    });
  }
  return router;
}
