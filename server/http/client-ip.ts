import type { IncomingMessage } from 'node:http';
import { ipKeyGenerator } from 'express-rate-limit';
import proxyaddr from 'proxy-addr';

/**
 * Which peers may set `X-Forwarded-For`: a reverse proxy on the same host. Express (`trust proxy`)
 * and the widget socket use this one setting, so HTTP and socket limits count the same address.
 */
export const TRUST_PROXY = 'loopback';

const trusted = proxyaddr.compile(TRUST_PROXY);

/** The client's address as Express's `req.ip` computes it, for any request (also a socket handshake). */
export function clientIp(req: IncomingMessage): string {
  return proxyaddr(req, trusted);
}

/** The key a per-address limit counts under: the address, or its /56 for IPv6 (one household or host). */
export function clientIpKey(ip: string | undefined): string {
  return ipKeyGenerator(ip ?? 'unknown');
}
