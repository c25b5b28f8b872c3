/**
 * Writes the app's OpenAPI document to `sdk/openapi.json` (or to `--out FILE`), the input the SDKs'
 * generated parts are made from. The server URL in it is fixed so the file only changes with the API.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildOpenApiDocument } from '../server/openapi/openapi.routes.js';
import { startLocalWisp } from '../sdk/harness/wisp.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'sdk/openapi.json' } } });
const out = values.out!;

const wisp = await startLocalWisp();
try {
  const document = buildOpenApiDocument(wisp.app.api, 'http://localhost:3000');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`export-openapi: wrote ${out}`);
} finally {
  await wisp.stop();
}
