import SwaggerParser from '@apidevtools/swagger-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../../shared/errors.js';
import { startTestApp, type TestApp } from '../test/test-app.js';

describe('the OpenAPI document', () => {
  let t: TestApp;
  let doc: OpenAPIV3_1.Document;

  beforeAll(async () => {
    t = await startTestApp();
    const res = await fetch(`${t.url}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    doc = (await res.json()) as OpenAPIV3_1.Document;
  });
  afterAll(() => t.stop());

  it('is served without a key and validates as OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0');
    // The parser dereferences in place, so it gets its own copy.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
    expect(doc.servers?.[0]?.url).toBe(t.url);
  });

  it('lists every mounted route with its method', () => {
    const mounted = t.app.api.mounted;
    expect(mounted.length).toBeGreaterThan(10);
    const missing = mounted.filter(({ method, documentedPath }) => !doc.paths?.[documentedPath]?.[method]);
    expect(missing).toEqual([]);
    const documentedCount = Object.values(doc.paths ?? {}).reduce(
      (n, item) => n + ['get', 'post', 'put', 'patch', 'delete'].filter((m) => m in (item ?? {})).length,
      0,
    );
    expect(documentedCount).toBe(mounted.length);
  });

  it('documents the errors each route can answer, and the key it needs', () => {
    for (const { method, path, documentedPath } of t.app.api.mounted) {
      const operation = doc.paths?.[documentedPath]?.[method] as OpenAPIV3_1.OperationObject;
      const statuses = Object.keys(operation.responses ?? {});
      const where = `${method.toUpperCase()} ${path}`;
      expect(statuses, where).toContain(String(ERROR_STATUS.RateLimitError));
      expect(statuses, where).toContain(String(ERROR_STATUS.InternalError));
      expect(
        statuses.some((s) => s.startsWith('2')),
        where,
      ).toBe(true);
      const isPublic = operation.security?.length === 0;
      if (!isPublic) {
        expect(statuses, where).toEqual(expect.arrayContaining(['401', '403']));
        expect(operation.description, where).toMatch(
          /^Requires (scope `[a-z_:]+`|an API key \(any scope\) or a console session)/,
        );
      }
      if (operation.requestBody) expect(statuses, where).toEqual(expect.arrayContaining(['413', '422']));
      if (path.includes(':') && !isPublic) expect(statuses, where).toContain('404');
    }
  });

  it('describes request bodies and list parameters from the shared schemas', () => {
    const create = doc.paths?.['/api/v1/chatbots']?.post as OpenAPIV3_1.OperationObject;
    const body = create.requestBody as OpenAPIV3_1.RequestBodyObject;
    const schema = body.content['application/json']?.schema as OpenAPIV3_1.SchemaObject;
    expect(schema.required).toContain('name');
    expect(schema.additionalProperties).toBe(false);
    const list = doc.paths?.['/api/v1/chatbots']?.get as OpenAPIV3_1.OperationObject;
    const perPage = (list.parameters as OpenAPIV3_1.ParameterObject[]).find((p) => p.name === 'perPage');
    expect(perPage?.in).toBe('query');
    expect((perPage?.schema as OpenAPIV3_1.SchemaObject).maximum).toBe(100);
  });

  it('serves the API reference at /docs with its renderer bundled by the server, and a favicon', async () => {
    const res = await fetch(`${t.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('<title>Wisp API</title>');
    // Only same-origin assets: nothing from a CDN.
    expect(html).not.toMatch(/(src|href)="https?:/);
    for (const [asset, type, minBytes] of [
      ['/docs/swagger-ui-bundle.js', 'javascript', 500_000],
      ['/docs/swagger-ui.css', 'text/css', 50_000],
      ['/docs/docs.js', 'javascript', 50],
      ['/favicon.ico', 'image/x-icon', 100],
    ] as const) {
      expect(html).toContain(asset);
      const served = await fetch(`${t.url}${asset}`);
      expect(served.status, asset).toBe(200);
      expect(served.headers.get('content-type'), asset).toContain(type);
      expect((await served.arrayBuffer()).byteLength, asset).toBeGreaterThan(minBytes);
    }
    expect(await (await fetch(`${t.url}/docs/docs.js`)).text()).toContain("url: '/api/v1/openapi.json'");
  });

  it('gives every operation an example request, and every JSON body an example', () => {
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
        const operation = item?.[method];
        if (!operation) continue;
        const where = `${method.toUpperCase()} ${path}`;
        expect(operation.description, where).toContain(`curl -X ${method.toUpperCase()} "$WISP${path}"`);
        const body = (operation.requestBody as OpenAPIV3_1.RequestBodyObject | undefined)?.content['application/json'];
        if (body) expect(body.example, where).toBeDefined();
      }
    }
  });
});
