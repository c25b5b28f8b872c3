import type { IncomingMessage } from 'node:http';

const INBOUND = /^\/api\/v1\/channels\/[^/]+\/events(?:\?|$)/;
const rawBodies = new WeakMap<IncomingMessage, Buffer>();

/**
 * The JSON parser's `verify` hook: keeps the exact bytes of channel deliveries, which their signatures
 * cover (a re-serialized body would not match). Other requests keep nothing.
 */
export function keepChannelRawBody(req: IncomingMessage & { originalUrl?: string }, _res: unknown, buf: Buffer): void {
  if (INBOUND.test(req.originalUrl ?? req.url ?? '')) rawBodies.set(req, buf);
}

export function rawBodyOf(req: IncomingMessage): Buffer | undefined {
  return rawBodies.get(req);
}
