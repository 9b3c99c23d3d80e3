/**
 * @module auth/spf-explain
 * "Does this domain's published SPF record authorise this IP, and through which mechanism?" — the
 * question the Direct Send readiness report and the Exchange audit plan ask of the organization's
 * own record. mailauth 4.13.3 evaluates SPF but does not say which term matched, so the matching
 * term is found the way SPF itself reads a record (RFC 7208 §4.6.2: terms left to right, the first
 * match wins): each mechanism is evaluated alone as `v=spf1 <term> -all` against the same IP, and
 * the first that passes is the one. A `redirect=` is the answer when no mechanism matched but the
 * record as a whole passed. A record given by the caller (`--spf "v=spf1 …"`, offline) stands in
 * for the published one.
 * Touches: DNS (through the injected resolver).
 * RFCs: 7208 §4.6 (record evaluation), §5 (mechanisms), §6.1 (redirect).
 */
import { spf as mailauthSpf } from 'mailauth';

export type Resolve = (name: string, rrtype: string) => Promise<unknown>;

export interface SpfExplanation {
  /** pass, fail, softfail, neutral, none, temperror, permerror. */
  result: string;
  /** The term that matched, e.g. "ip4:192.0.2.0/24", "include:sendgrid.net", "redirect=_spf.example". */
  mechanism?: string | undefined;
}

function isSpf(txt: string): boolean {
  return /^v=spf1(\s|$)/i.test(txt.trim());
}

/** The published SPF record of a domain, or undefined (none, or an error). */
async function publishedRecord(domain: string, resolve: Resolve): Promise<string | undefined> {
  try {
    const rows = (await resolve(domain, 'TXT')) as string[][];
    return rows.map((chunks) => chunks.join('')).find(isSpf);
  } catch {
    return undefined;
  }
}

/** A resolver that answers `record` for the TXT of `domain` and passes everything else through. */
function withRecord(resolve: Resolve, domain: string, record: string): Resolve {
  const d = domain.toLowerCase();
  return async (name, rrtype) => (name.toLowerCase() === d && rrtype === 'TXT' ? [[record]] : resolve(name, rrtype));
}

async function evaluate(ip: string, domain: string, resolve: Resolve): Promise<string> {
  try {
    // mailauth's resolver type is narrower than ours; the contract (dns.promises.resolve shapes) is the same.
    const r = (await mailauthSpf({ ip, sender: `postmaster@${domain}`, helo: domain, mta: 'mailgate', resolver: resolve as never })) as {
      status?: { result?: string };
    };
    return r.status?.result ?? 'temperror';
  } catch {
    return 'temperror';
  }
}

/** Evaluate `domain`'s SPF record (or `record`) for `ip`, naming the term that authorised it. */
export async function explainSpf(ip: string, domain: string, resolve: Resolve, record?: string): Promise<SpfExplanation> {
  const text = record ?? (await publishedRecord(domain, resolve));
  if (!text) return { result: record === undefined ? 'none' : 'permerror' };
  const base = withRecord(resolve, domain, text);
  const result = await evaluate(ip, domain, base);
  if (result !== 'pass') return { result };
  const terms = text.trim().split(/\s+/).slice(1);
  for (const term of terms) {
    if (term.includes('=')) continue; // modifiers (redirect=, exp=) are not mechanisms
    const bare = term.replace(/^[+?~-]/, '');
    if (term.startsWith('-') || term.startsWith('~') || term.startsWith('?') || bare.toLowerCase() === 'all') continue;
    if ((await evaluate(ip, domain, withRecord(resolve, domain, `v=spf1 ${bare} -all`))) === 'pass') return { result, mechanism: bare };
  }
  const redirect = terms.find((t) => t.toLowerCase().startsWith('redirect='));
  return { result, mechanism: redirect ?? (terms.some((t) => /^\+?all$/i.test(t)) ? 'all' : undefined) };
}
