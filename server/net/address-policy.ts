import { BlockList, isIP } from 'node:net';

/** Decides which resolved addresses the server may connect to for an organization (URL sources, model connections). */
export interface AddressPolicy {
  /** Null when the address may be fetched, else why not (for the source's failure reason). */
  refuse(address: string): string | null;
}

// Ranges a public web page or API never lives in: connecting to them would let an organization
// reach the server's own network (SSRF), including cloud metadata at 169.254.169.254.
const BLOCKED_V4: Array<[string, number]> = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];
const BLOCKED_V6: Array<[string, number]> = [
  ['::', 128],
  ['::1', 128],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  // NAT64 local-use prefix; the well-known prefix is checked by its embedded IPv4 address below.
  ['64:ff9b:1::', 48],
];

const blocked = new BlockList();
for (const [network, prefix] of BLOCKED_V4) blocked.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of BLOCKED_V6) blocked.addSubnet(network, prefix, 'ipv6');

/** The IPv4 address inside a NAT64 well-known-prefix address (64:ff9b::a.b.c.d), if it is one. */
function nat64Embedded(address: string): string | null {
  const match = /^64:ff9b::(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!match) return null;
  if (match[1]) return match[1];
  const high = parseInt(match[2] ?? '0', 16);
  const low = parseInt(match[3] ?? '0', 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** True for loopback, private, link-local, CGNAT, metadata, multicast and reserved addresses (v4, v6, v4-mapped). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return blocked.check(address, 'ipv4');
  const embedded = nat64Embedded(address);
  if (embedded) return blocked.check(embedded, 'ipv4');
  // BlockList also matches IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) against the IPv4 ranges.
  return blocked.check(address, 'ipv6');
}

/** Parses `URL_FETCH_ALLOWED_ADDRESSES`: IPs or CIDRs, comma-separated. */
function parseAllowList(list: string): BlockList {
  const allowed = new BlockList();
  for (const entry of list
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)) {
    const [network = '', prefixText] = entry.split('/');
    const family = isIP(network);
    if (family === 0) throw new Error(`URL_FETCH_ALLOWED_ADDRESSES: "${entry}" is not an IP address or CIDR`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefixText === undefined) allowed.addAddress(network, type);
    else allowed.addSubnet(network, Number(prefixText), type);
  }
  return allowed;
}

/**
 * The policy of this server: private addresses are refused unless `allowPrivate`
 * (development and tests) or the address is on the operator's allow list.
 */
export function addressPolicy(options: { allowPrivate: boolean; allowList: string }): AddressPolicy {
  const allowed = parseAllowList(options.allowList);
  return {
    refuse(address) {
      if (options.allowPrivate) return null;
      const family = isIP(address);
      if (family !== 0 && allowed.check(address, family === 4 ? 'ipv4' : 'ipv6')) return null;
      if (!isPrivateAddress(address)) return null;
      return `the address ${address} is private, loopback, link-local or reserved, so the server does not connect to it`;
    },
  };
}

/** The literal IP of a URL's host (brackets removed), or null when the host is a name. */
export function literalAddress(hostname: string): string | null {
  const bare = hostname.replace(/^\[|\]$/g, '');
  return isIP(bare) ? bare : null;
}
