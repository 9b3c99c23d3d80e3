/**
 * @module core/cidr
 * IP and CIDR lists (IPv4 and IPv6) compiled once into matchers, as Hono's ipRestriction
 * `buildMatcher` does: an invalid entry throws at compile time with the entry named, never while
 * mail arrives. Matching uses node:net BlockList. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d)
 * are matched as IPv4, since that is how a dual-stack socket reports an IPv4 client.
 * Touches: nothing.
 */
import { BlockList, isIP } from 'node:net';

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

/** Compile a list of IPs/CIDRs. Throws TypeError on the first invalid entry. */
export function compileCidrs(list: readonly string[]): CidrMatcher {
  const compiled = list.map((entry) => {
    const p = parseCidr(entry);
    const bl = new BlockList();
    bl.addSubnet(p.address, p.prefix, p.family === 4 ? 'ipv4' : 'ipv6');
    return { entry, prefix: p.prefix, family: p.family, bl };
  });
  // Longest prefix first so the first hit is the most precise one.
  compiled.sort((a, b) => b.prefix - a.prefix);
  const all = new BlockList();
  for (const c of compiled) {
    const p = parseCidr(c.entry);
    all.addSubnet(p.address, p.prefix, p.family === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    entries: Object.freeze([...list]),
    match(ip: string) {
      const a = normalizeIp(ip);
      if (!a) return undefined;
      const type = isIP(a) === 4 ? 'ipv4' : 'ipv6';
      if (!all.check(a, type)) return undefined;
      for (const c of compiled) {
        if (c.bl.check(a, type)) return { entry: c.entry, prefix: c.prefix };
      }
      return undefined;
    },
    contains(ip: string) {
      const a = normalizeIp(ip);
      if (!a) return false;
      return all.check(a, isIP(a) === 4 ? 'ipv4' : 'ipv6');
    },
  };
}
