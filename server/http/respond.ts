import type { Response } from 'express';
import type { PageMeta } from '../../shared/errors.js';

/** Writes `{ success: true, data, error: null }` (`success` serves clients written against the `success` dialect). */
export function sendData(res: Response, data: unknown, status = 200): void {
  res.status(status).json({ success: true, data, error: null });
}

/** Writes a page of a list: `{ success: true, data: items, error: null, meta: { page, perPage, total } }`. */
export function sendPage(
  res: Response,
  items: unknown[],
  // The snake_case dialect spells it `per_page`.
  meta: PageMeta | { page: number; per_page: number; total: number },
): void {
  res.status(200).json({ success: true, data: items, error: null, meta });
}
