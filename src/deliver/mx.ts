/**
 * @module deliver/mx
 * Finds the hosts to try for a recipient domain on an `mx` route: MX records in preference order
 * (equal preferences shuffled, RFC 5321 §5.1), the domain itself as an implicit MX when it has no
 * MX records, a null MX ("." — RFC 7505) as a permanent failure. DNS is reached only through an
 * injected resolver so tests never touch the network.
 * Touches: DNS, through the injected resolver only.
 * RFCs: 5321 §5.1 (locating the target host), 7505 (null MX), 3463 (X.4.4, X.1.10 codes).
 */
import { promises as dnsPromises } from 'node:dns';

export interface MxRecord {
  exchange: string;
  priority: number;
}

/** Resolves the MX records of a domain; throws with a `code` (ENODATA, ENOTFOUND, …) like node:dns. */
export type MxResolver = (domain: string) => Promise<MxRecord[]>;

/** The system resolver (node:dns). */
export const defaultMxResolver: MxResolver = (domain) => dnsPromises.resolveMx(domain);

/** Either hosts to try in order, or a reason the domain cannot be reached now or ever. */
export type MxPlan =
  | { kind: 'hosts'; hosts: string[] }
  | { kind: 'failed' | 'deferred'; enhanced: string; reply: string };

/** Sort by preference; shuffle within equal preferences to spread load (RFC 5321 §5.1). */
function orderHosts(records: readonly MxRecord[], random: () => number): string[] {
  const keyed = records.map((r) => ({ r, tie: random() }));
  keyed.sort((a, b) => a.r.priority - b.r.priority || a.tie - b.tie);
  return keyed.map((k) => k.r.exchange.replace(/\.$/, ''));
}

/** True for a null MX: a single record whose exchange is the root "." (RFC 7505). */
function isNullMx(records: readonly MxRecord[]): boolean {
  return records.some((r) => r.exchange === '' || r.exchange === '.');
}

/** Plan for a DNS error: no MX → implicit MX; no such domain → failed; anything else → deferred. */
function planForDnsError(domain: string, err: unknown): MxPlan {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (code === 'ENODATA') return { kind: 'hosts', hosts: [domain] };
  if (code === 'ENOTFOUND') return { kind: 'failed', enhanced: '5.4.4', reply: `domain ${domain} does not exist (DNS NXDOMAIN)` };
  const text = err instanceof Error ? err.message : String(err);
  return { kind: 'deferred', enhanced: '4.4.3', reply: `MX lookup for ${domain} failed: ${text}` };
}

/** Resolve the delivery plan for `domain`; never throws. */
export async function planMx(domain: string, resolver: MxResolver, random: () => number = Math.random): Promise<MxPlan> {
  let records: MxRecord[];
  try {
    records = await resolver(domain);
  } catch (err) {
    return planForDnsError(domain, err);
  }
  if (records.length === 0) return { kind: 'hosts', hosts: [domain] };
  if (isNullMx(records)) return { kind: 'failed', enhanced: '5.1.10', reply: `domain ${domain} does not accept mail (null MX, RFC 7505)` };
  return { kind: 'hosts', hosts: orderHosts(records, random) };
}
