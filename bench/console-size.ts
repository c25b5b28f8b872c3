/**
 * Owner console size report (`npm run size`, after `npm run build:console`): raw and gzip bytes of
 * every script the console loads, the total of the first page (entry + preloads) and of all of
 * them (with the chart library, loaded only when the overview draws), checked against the budget.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const assets = path.join(root, 'console', 'dist', 'assets');
/** The console's whole JavaScript, gzip: a page owners open often must stay fast on a phone. */
const BUDGET_GZIP_BYTES = 150 * 1024;

if (!existsSync(assets)) {
  console.error('console/dist is missing: run `npm run build:console` first');
  process.exit(1);
}
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const scripts = readdirSync(assets)
  .filter((name) => name.endsWith('.js'))
  .sort()
  .map((name) => {
    const bytes = readFileSync(path.join(assets, name));
    return { name, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
const firstPage = scripts.filter((s) => s.name.startsWith('index-') || s.name.startsWith('modulepreload'));
const sum = (list: typeof scripts) => list.reduce((total, s) => total + s.gzip, 0);

console.log(`${'console script'.padEnd(40)} ${'raw'.padStart(8)} ${'gzip'.padStart(8)}`);
for (const s of scripts) console.log(`${s.name.padEnd(40)} ${String(s.raw).padStart(8)} ${String(s.gzip).padStart(8)}`);
console.log('');
console.log(`first page (entry):   ${kb(sum(firstPage))} gzip`);
console.log(`all console scripts:  ${kb(sum(scripts))} gzip (budget ${kb(BUDGET_GZIP_BYTES)})`);
if (sum(scripts) > BUDGET_GZIP_BYTES) {
  console.error(`the console's scripts are over the budget of ${kb(BUDGET_GZIP_BYTES)} gzip`);
  process.exitCode = 1;
}
