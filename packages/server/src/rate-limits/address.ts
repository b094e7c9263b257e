import { isIPv4, isIPv6 } from 'node:net';

/**
 * The address a per-address limit counts against. IPv4 addresses (also IPv4-mapped IPv6 ones) count alone; IPv6
 * addresses count by their /64 prefix, because one subscriber usually holds a whole /64 and could otherwise step
 * around a limit by changing the low bits.
 */
export function addressKey(ip: string): string {
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return ip.slice(0, 64);
  const groups = expandIPv6(ip);
  // ::ffff:a.b.c.d, however it is written (a proxy may send ::ffff:cb00:7109): one IPv4 client, not the /64 of all.
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const [high, low] = groups.slice(6).map((g) => Number.parseInt(g, 16)) as [number, number];
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, lowercase and without leading zeros. */
function expandIPv6(ip: string): string[] {
  const [head = '', tail] = ip.split('%')[0]!.toLowerCase().split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // A trailing embedded IPv4 address takes two groups.
  const last = right.length > 0 ? right : left;
  const v4 = last.length > 0 && isIPv4(last[last.length - 1]!) ? last.pop()! : undefined;
  if (v4) {
    const [a, b, c, d] = v4.split('.').map(Number) as [number, number, number, number];
    last.push(((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
  }
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((g) => Number.parseInt(g || '0', 16).toString(16));
}
