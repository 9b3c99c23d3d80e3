/**
 * @module auth/spf
 * SPF for one transaction: the MAIL FROM identity and, when HELO is a domain name, the HELO
 * identity (RFC 7208 §2.3), via mailauth 4.13.3's spf(). Exported on its own so smtp/ can start it
 * as soon as a recipient is accepted, while the client is still sending DATA.
 *
 * Result cache: an SPF result is a function of (client IP, MAIL FROM, HELO, our host name) and the
 * DNS answers consulted. The answers come from auth/resolver's cache, so evaluating again before
 * the earliest of them expires returns the same result; the SPF cache keeps each result exactly
 * that long (resolver.tracked() reports the earliest expiry) and never keeps a result that
 * consulted an uncacheable answer (a timeout, SERVFAIL, TTL 0) or that is a temperror. The key holds
 * the whole MAIL FROM (SPF macros can expand the local part) and the HELO name as given. A device
 * that sends a thousand messages an hour is evaluated once per TTL instead of a thousand times.
 * One deliberate approximation: a record that uses the %{t} macro (current time) outside exp=,
 * which RFC 7208 §7.3 does not allow, would get the result of the second it was first evaluated
 * in, for that TTL.
 * Never throws: a failure yields a temperror result.
 * Touches: DNS only, through the resolver it is given.
 * RFCs: 7208 (§2.3 HELO, §2.4 null reverse-path → postmaster@HELO, §4.6.4 lookup limits).
 */
import { isIP } from 'node:net';
import { spf as mailauthSpf } from 'mailauth';
import type { DNSResolver } from 'mailauth';
import type { MaSpf } from './facts.ts';
import type { DnsResolveFn, TrackedResolver } from './resolver.ts';
import { cachedResult, ResultCache } from './ttl-cache.ts';

export interface SpfInput {
  clientIp: string;
  helo?: string | undefined;
  /** The MAIL FROM address without angle brackets; '' for the null reverse-path. */
  mailFrom: string;
  /** Our host name, quoted in the Received-SPF header. */
  mta: string;
}

/** mailauth's SPF results for the two identities, and what evaluating them cost. */
export interface SpfOutcome {
  /** MAIL FROM (or postmaster@HELO for the null reverse-path). */
  mailFrom: MaSpf;
  /** HELO identity; absent when HELO is not a domain name, for the null sender, or not checked. */
  helo?: MaSpf;
  /** Resolver calls the evaluation made (cache hits included). */
  lookups: number;
  /** Set when the evaluation failed as a whole. */
  error?: string;
}

export interface SpfDeps {
  /** Plain resolver (no result caching). */
  resolver: DnsResolveFn;
  /** Tracking resolver factory over the same DNS cache; with `cache`, enables result caching. */
  tracked?: () => TrackedResolver;
  cache?: SpfCache;
  /** Check the HELO identity too (default true). */
  checkHelo?: boolean;
  now?: () => number;
}

/** A bounded cache of SPF outcomes; one per process. */
export class SpfCache extends ResultCache<SpfOutcome> {}

/** HELO names worth an SPF check: dotted domain names, not address literals. */
export function heloDomain(helo: string | undefined): string | undefined {
  if (!helo || helo.startsWith('[') || isIP(helo)) return undefined;
  return /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\.?$/.test(helo) ? helo.replace(/\.$/, '') : undefined;
}

const temperror = (message: string): MaSpf => ({ status: { result: 'temperror', comment: message } });

async function evaluate(input: SpfInput, resolve: DnsResolveFn, checkHelo: boolean): Promise<SpfOutcome> {
  let lookups = 0;
  // mailauth's DNSResolver type is narrower than what it really accepts (MX objects too).
  const resolver = ((name: string, rrtype: string) => {
    lookups++;
    return resolve(name, rrtype);
  }) as DNSResolver;
  const mailFrom = input.mailFrom.replace(/^<|>$/g, '');
  const hDomain = heloDomain(input.helo);
  // As mailauth's authenticate() does: no HELO → the client IP; an IP HELO → an address literal.
  let helo = input.helo || input.clientIp;
  if (isIP(helo)) helo = `[${helo}]`;
  try {
    const main = mailauthSpf({ ip: input.clientIp, helo, ...(mailFrom ? { sender: mailFrom } : {}), mta: input.mta, resolver });
    // With an empty MAIL FROM, the check above already is the HELO check (postmaster@HELO).
    const heloCheck =
      checkHelo && hDomain && mailFrom ? mailauthSpf({ sender: `postmaster@${hDomain}`, ip: input.clientIp, helo: hDomain, mta: input.mta, resolver }) : undefined;
    const [m, h] = await Promise.all([main, heloCheck]);
    return { mailFrom: m as MaSpf, ...(h ? { helo: h as MaSpf } : {}), lookups };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { mailFrom: temperror(message), lookups, error: message };
  }
}

const cacheable = (o: SpfOutcome): boolean =>
  !o.error && o.mailFrom.status?.result !== 'temperror' && o.helo?.status?.result !== 'temperror';

/** Evaluates SPF for the transaction, from the cache when a live result is there. Never throws. */
export async function checkSpf(input: SpfInput, deps: SpfDeps): Promise<SpfOutcome> {
  const checkHelo = deps.checkHelo ?? true;
  const { cache, tracked } = deps;
  if (!cache || !tracked) return evaluate(input, deps.resolver, checkHelo);
  const key = `${input.clientIp}\n${input.mailFrom}\n${input.helo ?? ''}\n${input.mta}\n${checkHelo ? 1 : 0}`;
  return cachedResult(cache, key, deps.now ?? Date.now, tracked, (t) => evaluate(input, t.resolve, checkHelo), cacheable);
}
