import { Router } from 'express';
import type { Connection } from 'mongoose';
import { describeDatabase } from '../db/mongo.js';

/** `/healthz`: the process is up. `/readyz`: the database answers (503 otherwise), naming its engine and version. */
export function healthRoutes(connection: Connection, embedded: boolean): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ data: { status: 'ok' }, error: null });
  });
  router.get('/readyz', async (_req, res) => {
    try {
      const database = await withTimeout(describeDatabase(connection, embedded), 3_000);
      res.json({ data: { status: 'ready', database }, error: null });
    } catch {
      res.status(503).json({
        data: null,
        error: { name: 'UnavailableError', message: 'The database is not answering', details: null },
      });
    }
  });
  return router;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
