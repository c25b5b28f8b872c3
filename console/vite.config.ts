import { defineConfig } from 'vite';

const consoleDir = decodeURIComponent(new URL('.', import.meta.url).pathname);

/** The owner console: a Preact app served by the server at `/console`, talking only to the public API. */
export default defineConfig({
  root: consoleDir,
  base: '/console/',
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
    rolldownOptions: { input: { index: `${consoleDir}index.html`, preview: `${consoleDir}preview.html` } },
  },
});
