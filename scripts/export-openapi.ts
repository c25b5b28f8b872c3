/**
 * Writes the API's OpenAPI document to `sdk/openapi.json` (or `--out FILE`): the one file every SDK's
 * generated part is made from. Needs no database or running server.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { standaloneOpenApiJson } from '../server/openapi/standalone-document.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'sdk/openapi.json' } } });
const out = values.out!;
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, standaloneOpenApiJson());
console.log(`export-openapi: wrote ${out}`);
