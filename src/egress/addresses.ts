/**
 * @module egress/addresses
 * Address arithmetic the firewall renderers need: a CIDR reduced to its network (host bits
 * cleared, canonical text per RFC 5952 for IPv6), IPv4 netmasks (ASA, FortiGate), and range sets
 * (union, difference, complement) for syntaxes without negation (Windows Firewall address lists).
 * Touches: nothing (pure). RFCs: 4632 (CIDR), 5952 (IPv6 text form).
 */
import { parseCidr } from '../core/cidr.ts';

export type Family = 4 | 6;

/** A network: canonical address with host bits cleared, and its prefix length. */
export interface Net {
  family: Family;
  address: string;
  prefix: number;
  /** `address/prefix`, or the bare address for a single host (/32, /128). */
  text: string;
}

/** An inclusive address range of one family. */
export interface Range {
  family: Family;
  lo: bigint;
  hi: bigint;
}

const bits = (f: Family): number => (f === 4 ? 32 : 128);

function v4ToBig(a: string): bigint {
  return a.split('.').reduce((n, p) => (n << 8n) | BigInt(Number(p)), 0n);
}

function v6ToBig(a: string): bigint {
  let text = a;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const v = v4ToBig(dotted[1]);
    text = text.slice(0, dotted.index) + ((v >> 16n) & 0xffffn).toString(16) + ':' + (v & 0xffffn).toString(16);
  }
  const [head = '', tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** An address as an integer (input already validated by core/cidr). */
export function ipToBig(address: string, family: Family): bigint {
  return family === 4 ? v4ToBig(address) : v6ToBig(address);
}

/** An integer as canonical address text (RFC 5952 for IPv6: lower case, longest zero run as ::). */
export function bigToIp(n: bigint, family: Family): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join('.');
  const g = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) (best = i), (bestLen = j - i);
    i = j === i ? i + 1 : j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

const maskOf = (prefix: number, family: Family): bigint => {
  const b = BigInt(bits(family));
  return ((1n << b) - 1n) ^ ((1n << (b - BigInt(prefix))) - 1n);
};

/** A CIDR or address as its network (host bits cleared). Throws core/cidr's TypeError on bad input. */
export function toNet(entry: string): Net {
  const p = parseCidr(entry);
  const family = p.family;
  const address = bigToIp(ipToBig(p.address, family) & maskOf(p.prefix, family), family);
  return { family, address, prefix: p.prefix, text: p.prefix === bits(family) ? address : `${address}/${p.prefix}` };
}

/** `address/prefix` always, even for a single host. */
export const cidrText = (n: Net): string => `${n.address}/${n.prefix}`;

/** Dotted IPv4 netmask of a prefix length ("255.255.255.0" for 24). */
export function netmask4(prefix: number): string {
  return bigToIp(maskOf(prefix, 4), 4);
}

/** Order networks: IPv4 first, then by address and prefix (determinism of every output). */
export function compareNets(a: Net, b: Net): number {
  if (a.family !== b.family) return a.family - b.family;
  const x = ipToBig(a.address, a.family);
  const y = ipToBig(b.address, b.family);
  return x < y ? -1 : x > y ? 1 : a.prefix - b.prefix;
}

/** Sorted networks without duplicates and without networks inside another of the list. */
export function uniqueNets(nets: readonly Net[]): Net[] {
  const out: Net[] = [];
  for (const n of [...nets].sort(compareNets)) {
    const r = netRange(n);
    if (!out.some((k) => k.family === n.family && netRange(k).lo <= r.lo && r.hi <= netRange(k).hi)) out.push(n);
  }
  return out;
}

/** A network as a range. */
export function netRange(n: Net): Range {
  const lo = ipToBig(n.address, n.family);
  return { family: n.family, lo, hi: lo | (((1n << BigInt(bits(n.family))) - 1n) ^ maskOf(n.prefix, n.family)) };
}

/** Merge overlapping and adjacent ranges of one family (sorted). */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.lo <= last.hi + 1n) last.hi = r.hi > last.hi ? r.hi : last.hi;
    else out.push({ ...r });
  }
  return out;
}

/** `a` minus `b`, one family. */
export function subtractRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  let cur = mergeRanges(a);
  for (const cut of mergeRanges(b)) {
    const next: Range[] = [];
    for (const r of cur) {
      if (cut.hi < r.lo || cut.lo > r.hi) next.push(r);
      else {
        if (cut.lo > r.lo) next.push({ family: r.family, lo: r.lo, hi: cut.lo - 1n });
        if (cut.hi < r.hi) next.push({ family: r.family, lo: cut.hi + 1n, hi: r.hi });
      }
    }
    cur = next;
  }
  return cur;
}

/** Every address of the family not in `ranges`. */
export function complementRanges(ranges: readonly Range[], family: Family): Range[] {
  return subtractRanges([{ family, lo: 0n, hi: (1n << BigInt(bits(family))) - 1n }], ranges);
}

/** A range as text: a single address, a CIDR when it is exactly one, else "lo-hi". */
export function rangeText(r: Range): string {
  if (r.lo === r.hi) return bigToIp(r.lo, r.family);
  const size = r.hi - r.lo + 1n;
  const hostBits = size.toString(2).length - 1;
  if (size === 1n << BigInt(hostBits) && (r.lo & (size - 1n)) === 0n) return `${bigToIp(r.lo, r.family)}/${bits(r.family) - hostBits}`;
  return `${bigToIp(r.lo, r.family)}-${bigToIp(r.hi, r.family)}`;
}
