import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResponse } from '../test/api-client.js';
import { startTestApp, type TestApp, type TestOrg } from '../test/test-app.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Every `pattern` keyword anywhere in the document, with where it was found. */
function patternsOf(node: unknown, at = '#'): { at: string; pattern: string }[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => patternsOf(item, `${at}/${i}`));
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'pattern' && typeof value === 'string' ? [{ at, pattern: value }] : patternsOf(value, `${at}/${key}`),
  );
}

describe('the OpenAPI document read by a standard JSON Schema validator (Ajv)', () => {
  let t: TestApp;
  let org: TestOrg;
  let doc: OpenAPIV3_1.Document;
  // Ajv's defaults: strict patterns compiled with the `u` flag, as generated clients do.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);

  beforeAll(async () => {
    t = await startTestApp();
    org = await t.createOrg('Schemas');
    doc = (await (await fetch(`${t.url}/api/v1/openapi.json`)).json()) as OpenAPIV3_1.Document;
  });
  afterAll(() => t.stop());

  const operation = (path: string, method: Method) => {
    const op = doc.paths?.[path]?.[method] as OpenAPIV3_1.OperationObject | undefined;
    if (!op) throw new Error(`${method} ${path} is not documented`);
    return op;
  };
  /** The operation's schema, compiled with the document's components so `$ref`s resolve. */
  const compile = (schema: unknown): ValidateFunction =>
    ajv.compile({ ...(schema as object), components: doc.components });
  const responseValidator = (path: string, method: Method, status: number) => {
    const response = operation(path, method).responses?.[String(status)] as OpenAPIV3_1.ResponseObject;
    return compile(response.content?.['application/json']?.schema);
  };
  const expectValid = (validate: ValidateFunction, value: unknown) => {
    validate(value);
    expect(validate.errors ?? []).toEqual([]);
  };
  const expectResponse = (path: string, method: Method, res: ApiResponse) =>
    expectValid(responseValidator(path, method, res.status), res.body);

  it('has only ECMA-262 patterns without JavaScript flags, and each compiles', () => {
    const found = patternsOf(doc);
    expect(found.length).toBeGreaterThan(0);
    for (const { at, pattern } of found) {
      expect(pattern, at).not.toMatch(/\/[dgimsuvy]*$/);
      expect(() => ajv.compile({ type: 'string', pattern }), `${at}: ${pattern}`).not.toThrow();
    }
  });

  it('has request examples that its own body schemas accept', () => {
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      for (const method of ['post', 'put', 'patch'] as const) {
        const body = (item?.[method]?.requestBody as OpenAPIV3_1.RequestBodyObject | undefined)?.content[
          'application/json'
        ];
        if (!body) continue;
        const validate = compile(body.schema);
        validate(body.example);
        expect(validate.errors ?? [], `${method} ${path}`).toEqual([]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('accepts real ids, origins and a real create-bot body', async () => {
    const body = { name: 'Schema bot', allowedOrigins: ['https://www.example.com', 'HTTP://Shop.Example.com:8080'] };
    const requestSchema = (operation('/api/v1/chatbots', 'post').requestBody as OpenAPIV3_1.RequestBodyObject).content[
      'application/json'
    ]?.schema;
    expectValid(compile(requestSchema), body);
    const created = await org.api.post<{ id: string }>('/api/v1/chatbots', body);
    expect(created.status).toBe(201);

    const idParameter = (operation('/api/v1/chatbots/{id}', 'get').parameters as OpenAPIV3_1.ParameterObject[]).find(
      (p) => p.name === 'id',
    );
    expectValid(compile(idParameter?.schema), created.body.data.id);
    expectValid(compile(idParameter?.schema), created.body.data.id.toUpperCase());
  });

  it('describes real responses: a created bot, a list, a single bot and an error envelope', async () => {
    const created = await org.api.post<{ id: string }>('/api/v1/chatbots', { name: 'Described' });
    expectResponse('/api/v1/chatbots', 'post', created);
    expectResponse('/api/v1/chatbots', 'get', await org.api.get('/api/v1/chatbots'));
    expectResponse('/api/v1/chatbots/{id}', 'get', await org.api.get(`/api/v1/chatbots/${created.body.data.id}`));
    const missing = await org.api.get('/api/v1/chatbots/0123456789abcdef01234567');
    expect(missing.status).toBe(404);
    expectResponse('/api/v1/chatbots/{id}', 'get', missing);
    const invalid = await org.api.post('/api/v1/chatbots', { name: '' });
    expect(invalid.status).toBe(422);
    expectResponse('/api/v1/chatbots', 'post', invalid);
    expectResponse('/api/v1/chatbots', 'get', await t.anonymous.get('/api/v1/chatbots'));
  });
});
