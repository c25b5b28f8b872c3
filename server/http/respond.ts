import type { Response } from 'express';
import type { PageMeta } from '../../shared/errors.js';

/** Writes `{ data, error: null }`. */
export function sendData(res: Response, data: unknown, status = 200): void {
  res.status(status).json({ data, error: null });
}

/** Writes a page of a list: `{ data: items, error: null, meta: { page, perPage, total } }`. */
export function sendPage(res: Response, items: unknown[], meta: PageMeta): void {
  res.status(200).json({ data: items, error: null, meta });
}
