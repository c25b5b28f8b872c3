import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import { AppError } from '../errors/app-error.js';

/** Where `npm run build:console` writes the owner console (its pages and hashed assets). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../console/dist', import.meta.url));

/** Serves the owner console at `/console` (production too); it talks only to the public API. */
export function consoleRoutes(distDir: string = CONSOLE_DIST): Router {
  const router = Router();
  const page = (file: string) => (_req: express.Request, res: express.Response) => {
    if (!existsSync(path.join(distDir, file))) {
      throw new AppError('NotFoundError', { message: 'The console is not built: run `npm run build:console`' });
    }
    // The page is small and names hashed assets: always look again, so a release shows at once.
    res.sendFile(file, { root: distDir, headers: { 'Cache-Control': 'no-cache' } });
  };
  router.get(['/console', '/console/'], page('index.html'));
  router.get('/console/preview.html', page('preview.html'));
  router.use(
    '/console/assets',
    express.static(path.join(distDir, 'assets'), { immutable: true, maxAge: '365d', fallthrough: true, index: false }),
  );
  return router;
}
