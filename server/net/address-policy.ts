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
  // IPv4-compatible addresses (deprecated); IPv4-mapped ones are checked by their IPv4 address below.
  ['::', 96],
  // NAT64 local-use prefix; the well-known prefix and 6to4 are checked by their embedded IPv4 address.
  ['64:ff9b:1::', 48],
  // Teredo: the client's IPv4 address is hidden (obfuscated) in it, so the whole range is refused.
  ['2001::', 32],
];

const blocked = new BlockList();
for (const [network, prefix] of BLOCKED_V4) blocked.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of BLOCKED_V6) blocked.addSubnet(network, prefix, 'ipv6');

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part and a zone allowed), or null. */
function ipv6Groups(address: string): number[] | null {
  let text = address.split('%')[0] ?? '';
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const part = (side: string) => (side ? side.split(':').map((group) => parseInt(group, 16)) : []);
  const left = part(head);
  const right = part(tail ?? '');
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/**
 * The IPv4 address an IPv6 address carries and would reach: IPv4-mapped (::ffff:a.b.c.d),
 * NAT64 well-known prefix (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::). Null for others.
 */
function embeddedIPv4(address: string): string | null {
  const g = ipv6Groups(address);
  if (!g) return null;
  const v4 = (high: number, low: number) => [high >> 8, high & 255, low >> 8, low & 255].join('.');
  const zeros = (from: number, to: number) => g.slice(from, to).every((group) => group === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return v4(g[6]!, g[7]!);
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return v4(g[6]!, g[7]!);
  if (g[0] === 0x2002) return v4(g[1]!, g[2]!);
  return null;
}

/**
 * True for loopback, private, link-local, CGNAT, metadata, multicast and reserved addresses,
 * IPv4 or IPv6, including IPv6 forms that carry a private IPv4 address (mapped, NAT64, 6to4).
 */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return blocked.check(address, 'ipv4');
  const embedded = embeddedIPv4(address);
  if (embedded) return blocked.check(embedded, 'ipv4');
  return blocked.check(address.split('%')[0] ?? '', 'ipv6');
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
