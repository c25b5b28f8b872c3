import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildStandaloneOpenApiDocument, standaloneOpenApiJson } from '../../../server/openapi/standalone-document.js';
import { startTestApp, type TestApp } from '../../../server/test/test-app.js';
import { DOCUMENT, generateTypes, SCHEMA_FILE } from '../scripts/generate-types.js';
import { OPERATIONS } from '../src/generated/operations.js';

const REGENERATE =
  'The API changed: run `npm run sdk:generate` and commit sdk/openapi.json and the generated SDK files';

describe('the SDKs are generated from the current API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('sdk/openapi.json is the document the routes describe', () => {
    expect(readFileSync(DOCUMENT, 'utf8') === standaloneOpenApiJson(), REGENERATE).toBe(true);
  });

  it('the TypeScript types were generated from sdk/openapi.json', async () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8') === (await generateTypes()), REGENERATE).toBe(true);
  });

  it('the exported document is the one a running server serves (but for its server URL)', async () => {
    const served = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as { servers: unknown };
    expect({ ...served, servers: null }).toEqual({ ...buildStandaloneOpenApiDocument(), servers: null });
  });

  it('gives every operation a unique operationId: the SDK method for those the SDKs cover', () => {
    const document = buildStandaloneOpenApiDocument() as unknown as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    const ids = Object.values(document.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of OPERATIONS) {
      const expected = `${op.resource}${op.method.replace(/^./, (c) => c.toUpperCase())}`;
      expect(document.paths[op.path]?.[op.http.toLowerCase()]?.operationId, `${op.http} ${op.path}`).toBe(expected);
    }
    expect(document.paths['/api/v1/webhooks/{id}/rotate-secret']?.post?.operationId).toBe('webhooksRotateSecret');
  });
});
