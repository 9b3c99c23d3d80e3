/**
 * @module core/cidr
 * IP and CIDR lists (IPv4 and IPv6) compiled once into matchers, as Hono's ipRestriction
 * `buildMatcher` does: an invalid entry throws at compile time with the entry named, never while
 * mail arrives. Matching is integer arithmetic. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d)
 * are matched as IPv4, since that is how a dual-stack socket reports an IPv4 client.
 * Touches: nothing.
 */
import { isIP } from 'node:net';

/** Strip an IPv4-mapped IPv6 prefix and zone id; returns '' for something that is not an IP. */
export function normalizeIp(ip: string): string {
  let s = ip.trim();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(s)) s = s.slice(7);
  return isIP(s) ? s.toLowerCase() : '';
}

export interface ParsedCidr {
  address: string;
  prefix: number;
  family: 4 | 6;
}

/** True for an IP address or CIDR (IPv4 or IPv6). */
export function isIpOrCidr(entry: string): boolean {
  try {
    parseCidr(entry);
    return true;
  } catch {
    return false;
  }
}

/** Parse "a.b.c.d", "a.b.c.d/nn", "v6::", "v6::/nn". Throws a TypeError naming the entry. */
export function parseCidr(entry: string): ParsedCidr {
  const [addrRaw, prefixRaw, extra] = entry.trim().split('/');
  if (extra !== undefined || addrRaw === undefined) throw new TypeError(`invalid IP or CIDR: "${entry}"`);
  const address = normalizeIp(addrRaw);
  const fam = isIP(address);
  if (fam === 0) throw new TypeError(`invalid IP or CIDR: "${entry}"`);
  const family = fam as 4 | 6;
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (prefixRaw !== undefined) {
    if (!/^\d{1,3}$/.test(prefixRaw)) throw new TypeError(`invalid prefix length in "${entry}"`);
    prefix = Number(prefixRaw);
    if (prefix > max) throw new TypeError(`prefix /${prefix} too long for IPv${family} in "${entry}"`);
  }
  return { address, prefix, family };
}

/** A compiled list: `match(ip)` returns the longest-prefix entry that contains ip, or undefined. */
export interface CidrMatcher {
  readonly entries: readonly string[];
  match(ip: string): { entry: string; prefix: number } | undefined;
  contains(ip: string): boolean;
}

/** IPv4 dotted quad → unsigned 32-bit integer (input already validated). */
function v4ToInt(a: string): number {
  const p = a.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

/** IPv6 text → 8 16-bit groups (IPv4-suffixed forms included; input already validated). */
function v6ToGroups(a: string): number[] {
  let text = a;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const n = v4ToInt(dotted[1]);
    text = text.slice(0, -dotted[1].length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const zeros = tail === undefined ? 0 : 8 - h.length - t.length;
  return [...h, ...Array<string>(zeros).fill('0'), ...t].map((g) => parseInt(g, 16));
}

interface V4Entry { entry: string; prefix: number; net: number; mask: number }
interface V6Entry { entry: string; prefix: number; groups: number[] }

function v6Contains(e: V6Entry, g: number[]): boolean {
  let bits = e.prefix;
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if (((g[i] ?? 0) & mask) !== ((e.groups[i] ?? 0) & mask)) return false;
  }
  return true;
}

/**
 * The client IP parsed for matching, memoised for the last address seen: the same IP is matched
 * against every connector's list, stage after stage. A number for IPv4, groups for IPv6.
 */
let lastProbe: { ip: string; parsed: number | number[] | undefined } = { ip: '', parsed: undefined };
function probe(ip: string): number | number[] | undefined {
  if (ip === lastProbe.ip) return lastProbe.parsed;
  const a = normalizeIp(ip);
  const parsed = !a ? undefined : isIP(a) === 4 ? v4ToInt(a) : v6ToGroups(a);
  lastProbe = { ip, parsed };
  return parsed;
}

/**
 * Compile a list of IPs/CIDRs. Throws TypeError on the first invalid entry. Matching is integer
 * arithmetic (IPv4: one AND and compare per entry; IPv6: per 16-bit group), longest prefix first:
 * it runs for every connector at every SMTP stage and for every row of a policy replay.
 */
export function compileCidrs(list: readonly string[]): CidrMatcher {
  const v4: V4Entry[] = [];
  const v6: V6Entry[] = [];
  for (const entry of list) {
    const p = parseCidr(entry);
    if (p.family === 4) {
      const mask = p.prefix === 0 ? 0 : (0xffffffff << (32 - p.prefix)) >>> 0;
      v4.push({ entry, prefix: p.prefix, net: (v4ToInt(p.address) & mask) >>> 0, mask });
    } else {
      v6.push({ entry, prefix: p.prefix, groups: v6ToGroups(p.address) });
    }
  }
  v4.sort((a, b) => b.prefix - a.prefix);
  v6.sort((a, b) => b.prefix - a.prefix);
  const match = (ip: string): { entry: string; prefix: number } | undefined => {
    const parsed = probe(ip);
    if (parsed === undefined) return undefined;
    if (typeof parsed === 'number') {
      if (v4.length === 0) return undefined;
      const n = parsed;
      for (const e of v4) if (((n & e.mask) >>> 0) === e.net) return { entry: e.entry, prefix: e.prefix };
      return undefined;
    }
    if (v6.length === 0) return undefined;
    const g = parsed;
    for (const e of v6) if (v6Contains(e, g)) return { entry: e.entry, prefix: e.prefix };
    return undefined;
  };
  return {
    entries: Object.freeze([...list]),
    match,
    contains: (ip: string) => match(ip) !== undefined,
  };
}
