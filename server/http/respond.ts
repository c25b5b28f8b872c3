import type { Response } from 'express';
import type { PageMeta } from '../../shared/errors.js';

/** Writes `{ success: true, data, error: null }` (`success` serves clients written against the `success` dialect). */
export function sendData(res: Response, data: unknown, status = 200): void {
  res.status(status).json({ success: true, data, error: null });
}

/** A 200 envelope serialized once: its bytes and the ETag Express would compute for them. */
interface SerializedEnvelope {
  body: Buffer;
  etag: string | undefined;
}

const serialized = new WeakMap<object, SerializedEnvelope>();

/**
 * {@link sendData} with status 200 for a value that is shared and never changed (a cached DTO): the envelope is
 * serialized, and its ETag computed, once per value instead of on every request. The response is the one
 * `res.json` writes, byte for byte and header for header (Content-Type, Content-Length, ETag, a 304 to a
 * matching `If-None-Match`, no body for HEAD).
 */
export function sendSharedData(res: Response, data: object): void {
  let envelope = serialized.get(data);
  if (!envelope) {
    const body = Buffer.from(JSON.stringify({ success: true, data, error: null }));
    const etagOf = res.app.get('etag fn') as ((body: Buffer) => string | undefined) | undefined;
    envelope = { body, etag: typeof etagOf === 'function' ? etagOf(body) : undefined };
    serialized.set(data, envelope);
  }
  res.status(200);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  if (envelope.etag) res.setHeader('ETag', envelope.etag);
  res.send(envelope.body);
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
