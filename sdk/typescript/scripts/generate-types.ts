/**
 * Generates `src/generated/schema.ts` from `sdk/openapi.json` with openapi-typescript. The check in the
 * test suite calls `generateTypes` too, so a stale file fails the tests.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

export const DOCUMENT = fileURLToPath(new URL('../../openapi.json', import.meta.url));
export const SCHEMA_FILE = fileURLToPath(new URL('../src/generated/schema.ts', import.meta.url));

const BANNER = `/**
 * Generated from sdk/openapi.json by openapi-typescript: do not edit. Regenerate with \`npm run sdk:generate\`.
 */

`;

/** The TypeScript types of the document at `documentPath`, as the generated file holds them. */
export async function generateTypes(documentPath = DOCUMENT): Promise<string> {
  const ast = await openapiTS(pathToFileURL(documentPath), { alphabetize: false });
  return BANNER + astToString(ast);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(SCHEMA_FILE, await generateTypes());
  console.log(`generate-types: wrote ${SCHEMA_FILE}`);
}
