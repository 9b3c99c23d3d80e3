/**
 * @module auth/dmarc
 * DMARC for one message via mailauth 4.13.3's dmarc(), with a result cache like auth/spf's.
 *
 * Result cache: mailauth's DMARC result is a function of the header From address(es), the domains
 * that passed SPF and DKIM (with each signature's alignment and key-size flags), the ARC result
 * word (quoted in its comment) and the DNS answers it read (the _dmarc record of the From domain
 * and, when there is none, of its organizational domain). The answers come from auth/resolver's
 * cache, so evaluating again before the earliest of them expires gives the same result; the cache
 * keeps each result exactly that long (resolver.tracked()), at most an hour, and never keeps a
 * temperror or a result that read an uncacheable answer. A device that sends a thousand messages
 * an hour is evaluated once per TTL instead of a thousand times (the public-suffix lookups,
 * IDNA conversion and record parsing of each evaluation are most of its cost: profiled).
 * The cached object is shared: callers read it, never change it.
 * Never throws for a DNS failure (mailauth reports temperror); other errors propagate.
 * Touches: DNS only, through the resolver it is given.
 * RFCs: 7489 (§6.6.1 From, §6.6.3 policy discovery, §3.1 alignment).
 */
import { dmarc as mailauthDmarc } from 'mailauth';
import type { ARCResult, DMARCResult, DNSResolver } from 'mailauth';
import type { DnsResolveFn, TrackedResolver } from './resolver.ts';
import { cachedResult, ResultCache } from './ttl-cache.ts';

export interface DmarcDkimDomain {
  id?: string;
  domain: string;
  aligned?: boolean;
  underSized?: boolean;
}

export interface DmarcInput {
  /** The From header's addresses as mailauth's DKIM pass parsed them. */
  headerFrom: string[];
  /** Domains whose SPF passed (the MAIL FROM domain, or none). */
  spfDomains: string[];
  /** Domains of the DKIM signatures that passed. */
  dkimDomains: DmarcDkimDomain[];
  arcResult?: ARCResult | undefined;
}

export interface DmarcOutcome {
  /** mailauth's result; false when there is no single From address to evaluate. */
  result: DMARCResult | false;
  /** Resolver calls the evaluation made (cache hits included); a cached outcome keeps its count. */
  lookups: number;
}

export interface DmarcDeps {
  resolver: DnsResolveFn;
  /** Tracking resolver factory over the same DNS cache; with `cache`, enables result caching. */
  tracked?: (() => TrackedResolver) | undefined;
  cache?: DmarcCache | undefined;
  now?: () => number;
}

/** A bounded cache of DMARC outcomes; one per process. */
export class DmarcCache extends ResultCache<DmarcOutcome> {}

async function evaluate(input: DmarcInput, resolve: DnsResolveFn): Promise<DmarcOutcome> {
  let lookups = 0;
  // mailauth's DNSResolver type is narrower than what it really accepts.
  const resolver = ((name: string, rrtype: string) => {
    lookups++;
    return resolve(name, rrtype);
  }) as DNSResolver;
  const result = await mailauthDmarc({
    headerFrom: input.headerFrom,
    spfDomains: input.spfDomains,
    dkimDomains: input.dkimDomains,
    ...(input.arcResult ? { arcResult: input.arcResult } : {}),
    resolver,
  });
  return { result, lookups };
}

/** Everything mailauth's dmarc() reads of its input (a signature's id is not read). */
function keyOf(input: DmarcInput): string {
  return JSON.stringify([
    input.headerFrom,
    input.spfDomains,
    input.dkimDomains.map((d) => [d.domain, Boolean(d.aligned), Boolean(d.underSized)]),
    input.arcResult?.status?.result ?? '',
  ]);
}

const cacheable = (o: DmarcOutcome): boolean => !o.result || (o.result.status?.result !== 'temperror' && !(o.result as { error?: unknown }).error);

/** Evaluates DMARC for the message, from the cache when a live result is there. */
export async function checkDmarc(input: DmarcInput, deps: DmarcDeps): Promise<DmarcOutcome> {
  const { cache, tracked } = deps;
  if (!cache || !tracked) return evaluate(input, deps.resolver);
  return cachedResult(cache, keyOf(input), deps.now ?? Date.now, tracked, (t) => evaluate(input, t.resolve), cacheable);
}
