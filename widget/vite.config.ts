import { defineConfig, type Plugin } from 'vite';

const widgetDir = decodeURIComponent(new URL('.', import.meta.url).pathname);

/**
 * `widget.js` is pasted as a classic `<script async>`, yet its chat chunk is loaded with `import()`
 * (allowed in classic scripts, resolved against the script's own URL). Rolldown's `iife` format
 * cannot split chunks, so the entry is built as an ES chunk and wrapped here in a function scope,
 * which keeps its top-level names off the host page's global scope. The entry must not import
 * anything statically: shared code would land in a chunk the classic script cannot import.
 */
function classicScriptEntry(): Plugin {
  return {
    name: 'wisp-classic-script-entry',
    generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk' || !chunk.isEntry) continue;
        if (chunk.imports.length > 0 || chunk.exports.length > 0) {
          this.error(
            `${chunk.fileName} must have no static imports or exports (found imports ${chunk.imports.join(', ') || 'none'}, exports ${chunk.exports.join(', ') || 'none'}): pass shared code to the chat chunk instead of importing it from both`,
          );
        }
        // import() in a callback resolves against the page, not the script: point chunk paths at
        // the folder widget.js came from, read while the script runs (document.currentScript).
        const code = chunk.code.replace(/import\((["'`])\.\//g, 'import(__wisp_base+$1');
        if (chunk.dynamicImports.length > 0 && !code.includes('import(__wisp_base+')) {
          this.error('no lazy import() of a chunk found to point at the script folder: check the output format');
        }
        chunk.code = `(function(){var __wisp_base=new URL(".",(document.currentScript||{}).src||location.href).href;${code}\n})();\n`;
      }
    },
  };
}

export default defineConfig({
  root: widgetDir,
  publicDir: false,
  logLevel: 'warn',
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    reportCompressedSize: false,
    lib: { entry: 'src/embed.ts', formats: ['es'], fileName: () => 'widget.js' },
    // Vite keeps whitespace in ES library output (for consumers' bundlers); this file is final, so Rolldown minifies it fully.
    minify: false,
    cssMinify: true,
    rolldownOptions: { output: { chunkFileNames: 'widget/[name]-[hash].js', minify: true } },
  },
  plugins: [classicScriptEntry()],
});
