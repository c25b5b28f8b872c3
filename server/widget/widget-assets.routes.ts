import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router, type Response } from 'express';
import { AppError } from '../errors/app-error.js';

/** Where `npm run build:widget` writes `widget.js` and its hashed chunks (under `widget/`). */
export const WIDGET_DIST = fileURLToPath(new URL('../../widget/dist', import.meta.url));

/** The loader's name never changes, so caches must look again soon for a new release. */
const LOADER_CACHE = 'public, max-age=300';
/** Chunk names carry a content hash, so a cached copy is never stale. */
const CHUNK_CACHE = 'public, max-age=31536000, immutable';
const CHUNK_NAME = /^[A-Za-z0-9_-]{1,100}\.js$/;

function sendScript(res: Response, dir: string, file: string, cacheControl: string): Promise<void> {
  if (!existsSync(path.join(dir, file))) {
    throw new AppError('NotFoundError', {
      message: file === 'widget.js' ? 'The widget is not built: run `npm run build:widget`' : 'No such widget file',
    });
  }
  // Any site may load the widget: as a classic script (CORP) and its chunks as CORS module scripts.
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
  res.setHeader('Timing-Allow-Origin', '*');
  return new Promise((resolve, reject) => {
    res.sendFile(
      file,
      { root: dir, cacheControl: false, headers: { 'Cache-Control': cacheControl }, dotfiles: 'deny' },
      (error) => (error ? reject(error) : resolve()),
    );
  });
}

/** Serves the built widget: `/widget.js` (short cache) and `/widget/<chunk>-<hash>.js` (immutable). */
export function widgetAssetRoutes(distDir: string = WIDGET_DIST): Router {
  const router = Router();
  router.get('/widget.js', (_req, res) => sendScript(res, distDir, 'widget.js', LOADER_CACHE));
  router.get('/widget/:file', (req, res) => {
    const file = req.params.file;
    if (!CHUNK_NAME.test(file)) throw new AppError('NotFoundError', { message: 'No such widget file' });
    return sendScript(res, path.join(distDir, 'widget'), file, CHUNK_CACHE);
  });
  return router;
}
