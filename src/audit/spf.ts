/**
 * @module audit/spf
 * "Which sources does the tenant's SPF record authorise?": an SpfAuthorizer (the seam of the
 * readiness report) that evaluates SPF with mailauth through mailgate's resolver (auth/), for the
 * sender's domain and a source IP. With `--spf "v=spf1 …"` (offline) the resolver answers that
 * record for the TXT of every tenant domain (with no tenant domains given: of the sender domain
 * being evaluated, as `report direct-send --spf` needs) and passes every other question (includes,
 * a, mx) to the real resolver, which may fail offline (then the include is a temperror).
 * The term that authorised the IP comes from auth/spf-explain (each mechanism evaluated alone, first
 * pass wins, as RFC 7208 §4.6.2 reads a record).
 * Touches: DNS, through the resolver it is given.
 * RFCs: 7208.
 */
import { explainSpf, resolverFromSettings, type DnsResolveFn } from '../auth/index.ts';
import type { SpfAuthorization, SpfAuthorizer } from '../trace/reports/index.ts';

export interface SpfOptions {
  /** Base resolver (default: auth/'s caching resolver over the system's servers, or MAILGATE_DNS_SERVERS). */
  resolve?: DnsResolveFn | undefined;
  /** A record given with --spf, answered for the TXT of every tenant domain. */
  record?: string | undefined;
  tenantDomains?: readonly string[] | undefined;
}

/** The resolver SPF evaluation uses: the given record for tenant domains, else the base resolver. */
export function spfResolver(o: SpfOptions): DnsResolveFn {
  const base = o.resolve ?? resolverFromSettings(undefined).resolve;
  const record = o.record;
  if (!record) return base;
  const tenant = new Set((o.tenantDomains ?? []).map((d) => d.toLowerCase()));
  return async (name, rrtype) => {
    if (rrtype === 'TXT' && tenant.has(name.toLowerCase().replace(/\.$/, ''))) return [[record]];
    return base(name, rrtype);
  };
}

async function txtRecord(resolve: DnsResolveFn, domain: string): Promise<string | undefined> {
  try {
    const rows = (await resolve(domain, 'TXT')) as string[][];
    return rows.map((r) => r.join('')).find((t) => /^v=spf1(\s|$)/i.test(t));
  } catch {
    return undefined;
  }
}

/** An SpfAuthorizer over the tenant's published (or given) SPF records; answers are cached per (ip, domain). */
export function createSpfAuthorizer(o: SpfOptions = {}): SpfAuthorizer {
  const resolve = spfResolver(o);
  const perDomain = o.record !== undefined && o.tenantDomains === undefined;
  const cache = new Map<string, Promise<SpfAuthorization>>();
  return (ip, domain) => {
    const k = `${ip} ${domain}`;
    let p = cache.get(k);
    if (!p) {
      const r = perDomain ? spfResolver({ ...o, tenantDomains: [domain] }) : resolve;
      p = domain ? explainSpf(ip, domain, r) : Promise.resolve({ result: 'none' });
      cache.set(k, p);
    }
    return p;
  };
}

/** The SPF record of each domain (given, published, or why not), for the plan. */
export async function tenantSpfRecords(o: SpfOptions, domains: readonly string[]): Promise<{ domain: string; record: string; how: string }[]> {
  const resolve = spfResolver(o);
  const out: { domain: string; record: string; how: string }[] = [];
  for (const d of domains) {
    if (o.record) out.push({ domain: d, record: o.record, how: 'given with --spf' });
    else {
      const r = await txtRecord(resolve, d);
      out.push({ domain: d, record: r ?? '', how: r ? 'published (TXT)' : 'no SPF record found (or DNS unreachable)' });
    }
  }
  return out;
}
