/**
 * @module auth/resolver
 * mailgate's caching stub resolver, shaped exactly like the `resolver` option mailauth takes:
 * `resolve(name, rrtype)` returns what `dns.promises.resolve` would (TXT → string[][], MX →
 * {exchange, priority}[], A/AAAA/PTR/CNAME/NS → string[]) and throws Errors with node:dns codes
 * (ENOTFOUND for NXDOMAIN, ENODATA for NOERROR-without-data, ETIMEOUT, ESERVFAIL, EREFUSED,
 * ECONNREFUSED, EBADNAME, EBADRESP).
 *
 * How TTLs are obtained: Node's `dns.Resolver` reports TTLs only for A/AAAA (`{ ttl: true }`) and
 * never exposes the SOA of a negative answer, so a cache built on it would have to invent TTLs for
 * TXT/MX (the records SPF, DKIM and DMARC live in). Instead this module speaks the DNS wire protocol
 * itself (auth/dns-wire, auth/dns-transport: UDP, TCP on truncation, per-attempt timeout, `tries`
 * rounds over the servers) and caches each answer for the smallest TTL in its answer chain (CNAMEs
 * included), clamped to [minTtlSeconds, maxTtlSeconds]. Negative answers (NXDOMAIN, NODATA) are
 * cached for min(SOA TTL, SOA MINIMUM) from the authority section (RFC 2308 §5), capped by
 * `negativeTtlSeconds`, which is also the TTL when no SOA came back. Other failures (timeouts,
 * SERVFAIL, REFUSED, connection errors) are never cached. Concurrent identical questions share one
 * upstream query; each caller gets its own copy of the data or its own Error object (mailauth
 * annotates thrown errors, so sharing one would leak state between messages).
 * Default servers are the system's (`dns.getServers()`, i.e. /etc/resolv.conf).
 * Touches: the network, only towards the configured DNS servers (via auth/dns-transport).
 * RFCs: 1034/1035 (resolution, CNAME chains), 2181 §5.2/§8 (RRset TTL), 2308 (negative caching),
 * 7208 §4.6.4 (lookup limits are applied by mailauth on top of this resolver).
 */
import dns from 'node:dns';
import { randomInt } from 'node:crypto';
import { RCODE, RRTYPE, decodeResponse, dnsError, encodeQuery } from './dns-wire.ts';
import type { DnsResponse, ResourceRecord, Soa } from './dns-wire.ts';
import { exchange, parseServer } from './dns-transport.ts';
import type { Upstream } from './dns-transport.ts';
import { TtlLru } from './ttl-cache.ts';

export interface ResolverOptions {
  /** 'ip' or 'ip:port' ('[v6]:port' for IPv6 with a port); default: the system's servers. */
  servers?: string[];
  /** Per attempt, default 2000. */
  timeoutMs?: number;
  /** Rounds over the server list, default 2. */
  tries?: number;
  /** Cache bound (entries), default 10000. */
  maxEntries?: number;
  /** Milliseconds since the epoch; default Date.now. */
  clock?: () => number;
  /** Cap, and default when no SOA came back, for NXDOMAIN/NODATA; default 300. */
  negativeTtlSeconds?: number;
  /** Floor for positive TTLs, default 0 (honour the zone). */
  minTtlSeconds?: number;
  /** Ceiling for positive TTLs, default 86400. */
  maxTtlSeconds?: number;
}

export interface ResolverStats {
  /** resolve() calls. */
  queries: number;
  /** Answered from the cache (positive or negative). */
  hits: number;
  /** Not in the cache (joined an in-flight query or went upstream). */
  misses: number;
  /** Cache hits that were NXDOMAIN/NODATA. */
  negativeHits: number;
  /** Misses that joined an identical in-flight query instead of asking upstream. */
  inflightJoins: number;
  /** Questions actually sent upstream. */
  upstream: number;
  /** Upstream questions that ended in ETIMEOUT. */
  timeouts: number;
  /** Upstream questions that ended in another uncached error. */
  errors: number;
  /** Entries dropped by the size bound. */
  evictions: number;
  /** Entries in the cache now. */
  size: number;
}

export type DnsResolveFn = (name: string, rrtype: string) => Promise<unknown>;

/**
 * A view of the resolver that remembers how long what it delivered stays valid: the basis of any
 * cache of results computed from DNS answers (auth/spf caches SPF results this way).
 */
export interface TrackedResolver {
  resolve: DnsResolveFn;
  /**
   * Earliest expiry (ms since the epoch) of the answers delivered so far; 0 once an answer could
   * not be cached (an error, a TTL of 0); Infinity while nothing was asked.
   */
  expiresAt(): number;
}

export interface CachingResolver {
  resolve: DnsResolveFn;
  /** A resolver over the same cache that tracks the expiry of its answers (one per computation). */
  tracked(): TrackedResolver;
  stats(): ResolverStats;
  clear(): void;
}

type Outcome = { kind: 'data'; data: unknown } | { kind: 'negative'; code: 'ENOTFOUND' | 'ENODATA' } | { kind: 'error'; code: string; message: string };
/** An outcome and the time it expires from the cache (0: it was not cached). */
type Held = { outcome: Outcome; expiresAt: number };

function copyData(data: unknown): unknown {
  if (!Array.isArray(data)) return data;
  return data.map((row: unknown) => (Array.isArray(row) ? row.slice() : typeof row === 'object' && row ? { ...row } : row));
}

/** Follows the CNAME chain from `qname` and returns the answer records of `qtype` with the chain's TTL. */
function extractAnswer(resp: DnsResponse, qname: string, qtype: number): { records: ResourceRecord[]; ttl: number } {
  let current = qname.toLowerCase().replace(/\.$/, '');
  let ttl = Number.POSITIVE_INFINITY;
  for (let hop = 0; hop < 16; hop++) {
    const here = resp.answers.filter((rr) => rr.name.toLowerCase() === current);
    const records = here.filter((rr) => rr.type === qtype);
    if (records.length > 0) {
      for (const rr of records) ttl = Math.min(ttl, rr.ttl);
      return { records, ttl };
    }
    const cname = here.find((rr) => rr.type === RRTYPE.CNAME);
    if (!cname || qtype === RRTYPE.CNAME) break;
    ttl = Math.min(ttl, cname.ttl);
    current = String(cname.data).toLowerCase();
  }
  return { records: [], ttl: 0 };
}

function negativeTtl(resp: DnsResponse, cap: number): number {
  const soa = resp.authorities.find((rr) => rr.type === RRTYPE.SOA);
  if (!soa) return cap;
  return Math.min(soa.ttl, (soa.data as Soa).minimum, cap);
}

const RCODE_ERRORS: Record<number, string> = {
  [RCODE.FORMERR]: 'EFORMERR',
  [RCODE.SERVFAIL]: 'ESERVFAIL',
  [RCODE.NOTIMP]: 'ENOTIMP',
  [RCODE.REFUSED]: 'EREFUSED',
};

/** Creates a resolver with its own cache; one per process is the intent (daemon/ builds it). */
export function createResolver(opts: ResolverOptions = {}): CachingResolver {
  const servers: Upstream[] = (opts.servers && opts.servers.length ? opts.servers : dns.getServers()).map(parseServer);
  const timeoutMs = opts.timeoutMs ?? 2000;
  const tries = opts.tries ?? 2;
  const clock = opts.clock ?? Date.now;
  const negCap = opts.negativeTtlSeconds ?? 300;
  const minTtl = opts.minTtlSeconds ?? 0;
  const maxTtl = opts.maxTtlSeconds ?? 86400;
  const cache = new TtlLru<Outcome>(opts.maxEntries ?? 10000);
  const inflight = new Map<string, Promise<Held>>();
  const counts = { queries: 0, hits: 0, misses: 0, negativeHits: 0, inflightJoins: 0, upstream: 0, timeouts: 0, errors: 0 };

  async function ask(name: string, type: string, qtype: number, edns = true): Promise<{ outcome: Outcome; ttl: number }> {
    const query = encodeQuery(randomInt(0x10000), name, qtype, edns);
    const resp = decodeResponse(await exchange(query, name, { servers, timeoutMs, tries }));
    if (resp.rcode === RCODE.FORMERR && edns) return ask(name, type, qtype, false); // pre-EDNS server
    if (resp.rcode === RCODE.NXDOMAIN) return { outcome: { kind: 'negative', code: 'ENOTFOUND' }, ttl: negativeTtl(resp, negCap) };
    if (resp.rcode !== RCODE.NOERROR) {
      const code = RCODE_ERRORS[resp.rcode] ?? 'EBADRESP';
      return { outcome: { kind: 'error', code, message: `${code} ${name}` }, ttl: 0 };
    }
    const { records, ttl } = extractAnswer(resp, name, qtype);
    if (records.length === 0) return { outcome: { kind: 'negative', code: 'ENODATA' }, ttl: negativeTtl(resp, negCap) };
    const data = records.map((rr) => rr.data); // MX rdata is already { exchange, priority }
    return { outcome: { kind: 'data', data }, ttl: Math.max(minTtl, Math.min(maxTtl, ttl)) };
  }

  /** The outcome and until when it holds (0: not cached). */
  async function upstream(key: string, name: string, type: string): Promise<Held> {
    counts.upstream++;
    const qtype = RRTYPE[type];
    let result: { outcome: Outcome; ttl: number };
    try {
      if (qtype === undefined) throw dnsError('ENOTIMP', name, `unsupported record type ${type}`);
      result = await ask(name, type, qtype);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      // A name that cannot be encoded (label > 63 octets, empty label, > 255 octets) cannot exist
      // in the DNS: report NXDOMAIN (an SPF void lookup, RFC 7208 §4.6.4), never sent, never cached.
      result =
        e.code === 'EBADNAME'
          ? { outcome: { kind: 'negative', code: 'ENOTFOUND' }, ttl: 0 }
          : { outcome: { kind: 'error', code: e.code ?? 'EBADRESP', message: e.message ?? String(err) }, ttl: 0 };
    }
    const { outcome, ttl } = result;
    let expiresAt = 0;
    if (outcome.kind === 'error') {
      if (outcome.code === 'ETIMEOUT') counts.timeouts++;
      else counts.errors++;
    } else if (ttl > 0) {
      expiresAt = clock() + ttl * 1000;
      cache.set(key, outcome, expiresAt);
    }
    return { outcome, expiresAt };
  }

  function deliver(outcome: Outcome, name: string): unknown {
    if (outcome.kind === 'data') return copyData(outcome.data);
    if (outcome.kind === 'negative') {
      throw dnsError(outcome.code, name, `${outcome.code === 'ENOTFOUND' ? 'NXDOMAIN' : 'NODATA'} ${name}`);
    }
    throw dnsError(outcome.code, name, outcome.message);
  }

  async function lookup(rawName: string, rrtype: string, onExpiry?: (at: number) => void): Promise<unknown> {
    counts.queries++;
    const type = String(rrtype || 'A').toUpperCase();
    const name = String(rawName).replace(/\.$/, '');
    const key = `${type} ${name.toLowerCase()}`;
    const cached = cache.entry(key, clock());
    if (cached) {
      counts.hits++;
      if (cached.value.kind === 'negative') counts.negativeHits++;
      onExpiry?.(cached.expiresAt);
      return deliver(cached.value, name);
    }
    counts.misses++;
    let pending = inflight.get(key);
    if (pending) {
      counts.inflightJoins++;
    } else {
      pending = upstream(key, name, type).finally(() => inflight.delete(key));
      inflight.set(key, pending);
    }
    const held = await pending;
    onExpiry?.(held.expiresAt);
    return deliver(held.outcome, name);
  }

  const resolve: DnsResolveFn = (name, rrtype) => lookup(name, rrtype);

  function tracked(): TrackedResolver {
    let earliest = Number.POSITIVE_INFINITY;
    const note = (at: number): void => {
      if (at < earliest) earliest = at;
    };
    return { resolve: (name, rrtype) => lookup(name, rrtype, note), expiresAt: () => earliest };
  }

  return {
    resolve,
    tracked,
    stats: () => ({ ...counts, evictions: cache.evictions, size: cache.size }),
    clear: () => cache.clear(),
  };
}
