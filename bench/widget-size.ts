/**
 * Widget size report (`npm run size`, after `npm run build:widget`): raw, gzip and brotli bytes of
 * widget.js and of every lazily loaded chunk, the total a page loads before the chat is first
 * opened (widget.js) and after (plus the chat chunk), checked against bench/widget-budget.json.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'widget', 'dist');
const budget = JSON.parse(readFileSync(path.join(root, 'bench', 'widget-budget.json'), 'utf8')) as {
  beforeOpenGzipBytes: number;
  afterOpenGzipBytes: number;
};

interface Sizes {
  raw: number;
  gzip: number;
  brotli: number;
}

function sizesOf(file: string): Sizes {
  const bytes = readFileSync(file);
  return {
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

const sum = (list: Sizes[]): Sizes =>
  list.reduce((a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli }), {
    raw: 0,
    gzip: 0,
    brotli: 0,
  });

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const row = (name: string, s: Sizes) =>
  `${name.padEnd(34)} ${String(s.raw).padStart(8)} ${String(s.gzip).padStart(8)} ${String(s.brotli).padStart(8)}   (${kb(s.gzip)} gzip)`;

if (!existsSync(path.join(dist, 'widget.js'))) {
  console.error('widget/dist/widget.js is missing: run `npm run build:widget` first');
  process.exit(1);
}
const loader = sizesOf(path.join(dist, 'widget.js'));
const chunkDir = path.join(dist, 'widget');
const chunks = (existsSync(chunkDir) ? readdirSync(chunkDir) : [])
  .filter((name) => name.endsWith('.js'))
  .sort()
  .map((name) => ({ name: `widget/${name}`, sizes: sizesOf(path.join(chunkDir, name)) }));
const beforeOpen = loader;
const afterOpen = sum([loader, ...chunks.map((c) => c.sizes)]);

console.log(`${'file'.padEnd(34)} ${'raw'.padStart(8)} ${'gzip'.padStart(8)} ${'brotli'.padStart(8)}`);
console.log(row('widget.js', loader));
for (const chunk of chunks) console.log(row(chunk.name, chunk.sizes));
console.log('');
console.log(row('before first open (widget.js)', beforeOpen));
console.log(row('after open (+ chat chunk)', afterOpen));
console.log('');

const failures: string[] = [];
if (beforeOpen.gzip > budget.beforeOpenGzipBytes) {
  failures.push(`before open: ${kb(beforeOpen.gzip)} gzip is over the budget of ${kb(budget.beforeOpenGzipBytes)}`);
}
if (afterOpen.gzip > budget.afterOpenGzipBytes) {
  failures.push(`after open: ${kb(afterOpen.gzip)} gzip is over the budget of ${kb(budget.afterOpenGzipBytes)}`);
}
console.log(
  `budget (gzip): before open ${kb(budget.beforeOpenGzipBytes)}, after open ${kb(budget.afterOpenGzipBytes)}: ${failures.length ? 'OVER' : 'ok'}`,
);
for (const failure of failures) console.error(failure);
if (failures.length) process.exitCode = 1;
