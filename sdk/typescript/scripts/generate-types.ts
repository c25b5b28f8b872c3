/**
 * Generates `src/generated/schema.ts` from `sdk/openapi.json` with openapi-typescript (scripts/generate-sdks.sh
 * runs it with the other generators, so `npm run sdk:check` fails on a stale file). The check in the test
 * suite calls `generateTypes` too.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

export const DOCUMENT = fileURLToPath(new URL('../../openapi.json', import.meta.url));
export const SCHEMA_FILE = fileURLToPath(new URL('../src/generated/schema.ts', import.meta.url));

const BANNER = `/**
 * Generated from sdk/openapi.json by openapi-typescript: do not edit. Regenerate with \`npm run sdk:generate\`.
 */

`;

/** The TypeScript types of the document at `documentPath`, as the generated file holds them. */
export async function generateTypes(documentPath = DOCUMENT): Promise<string> {
  const document = withoutRequiredChoices(JSON.parse(readFileSync(documentPath, 'utf8')));
  const ast = await openapiTS(document as Parameters<typeof openapiTS>[0], { alphabetize: false });
  return BANNER + astToString(ast);
}

/**
 * The schema without `anyOf`/`oneOf` choices that only say which fields are required ("`chatbot` or
 * `chatbotId`"): openapi-typescript makes each such choice `unknown`, and `T | unknown` is `unknown`, so the
 * body's type would be lost. The server checks the choice; the types need not.
 */
function withoutRequiredChoices(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutRequiredChoices);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    const onlyRequired =
      (key === 'anyOf' || key === 'oneOf') &&
      Array.isArray(value) &&
      value.every((v) => v && typeof v === 'object' && Object.keys(v).every((k) => k === 'required'));
    if (!onlyRequired) out[key] = withoutRequiredChoices(value);
  }
  return out;
}

// Usage: tsx generate-types.ts [DOCUMENT [OUT]] (sdk/openapi.json and src/generated/schema.ts by default).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [document = DOCUMENT, out = SCHEMA_FILE] = process.argv.slice(2);
  writeFileSync(out, await generateTypes(document));
  console.log(`generate-types: wrote ${out}`);
}
