/**
 * @module deliver/mta-sts
 * MTA-STS (RFC 8461) for `mx` routes: finds the recipient domain's policy (the `_mta-sts` TXT id
 * through an injected TXT resolver, the policy file through an injected HTTPS fetcher), parses
 * and matches it with mailauth's helpers, and keeps it cached for its max_age (§5.1: a cached
 * policy is used while unexpired; a new TXT id makes it refetched; a failed refetch keeps it).
 * The fetcher is a seam: the default one speaks HTTPS to `mta-sts.<domain>` on port 443 with
 * the system CAs, no redirects (§3.3); tests give it a loopback server and a test CA.
 * DANE (RFC 7672) is not implemented: the resolver path has no DNSSEC validation to build on.
 * Touches: DNS TXT and outbound HTTPS, both through what is injected.
 * RFCs: 8461 (§3.1 TXT, §3.2 policy, §3.3 fetch, §4.1 MX match, §5.1 cache).
 */
import { request } from 'node:https';
import { resolveTxt as systemResolveTxt } from 'node:dns/promises';
import { parsePolicy, resolvePolicy, validateMx } from 'mailauth/lib/mta-sts.js';

/** TXT records of a name, as node:dns returns them (throws with ENODATA/ENOTFOUND when none). */
export type TxtResolver = (name: string) => Promise<string[][]>;
/** Fetch the policy text of `domain` (https://mta-sts.<domain>/.well-known/mta-sts.txt); throws on failure. */
export type PolicyFetcher = (domain: string) => Promise<string>;

export interface StsPolicy {
  id: string;
  mode: 'enforce' | 'testing' | 'none';
  mx: string[];
  maxAge: number;
  /** ms since the epoch. */
  expiresAt: number;
}

export interface MtaStsDeps {
  resolveTxt: TxtResolver;
  fetchPolicy: PolicyFetcher;
  now?: () => number;
  /** Told about fetch failures and testing-mode mismatches. */
  warn?: (msg: string, fields: Record<string, unknown>) => void;
}

const MAX_POLICY_BYTES = 64 * 1024; // §3.2: a policy is small; refuse a server that streams forever

/** The default fetcher: HTTPS GET, system CAs (or `ca`), no redirects, bounded in size and time. */
export function httpsPolicyFetcher(opts: { ca?: string | Buffer; connectTo?: (host: string) => { host: string; port: number }; timeoutMs?: number } = {}): PolicyFetcher {
  return (domain) => {
    const servername = `mta-sts.${domain}`;
    const dial = opts.connectTo ? opts.connectTo(servername) : { host: servername, port: 443 };
    return new Promise<string>((resolve, reject) => {
      const req = request(
        { host: dial.host, port: dial.port, servername, path: '/.well-known/mta-sts.txt', method: 'GET', headers: { host: servername }, rejectUnauthorized: true, timeout: opts.timeoutMs ?? 15_000, ...(opts.ca ? { ca: opts.ca } : {}) },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            return reject(new Error(`policy fetch from ${servername} answered HTTP ${res.statusCode ?? '?'}`)); // §3.3: no redirects
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_POLICY_BYTES) req.destroy(new Error(`policy from ${servername} larger than ${MAX_POLICY_BYTES} bytes`));
            else chunks.push(c);
          });
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`policy fetch from ${servername} timed out`)));
      req.on('error', reject);
      req.end();
    });
  };
}

/** The system's DNS and HTTPS. */
export function systemMtaSts(warn?: MtaStsDeps['warn']): MtaStsDeps {
  return { resolveTxt: systemResolveTxt, fetchPolicy: httpsPolicyFetcher(), warn };
}

/** Policies by domain, cached for their max_age. */
export class MtaStsCache {
  private readonly cache = new Map<string, StsPolicy>();
  constructor(private readonly deps: MtaStsDeps) {}

  private now(): number {
    return this.deps.now ? this.deps.now() : Date.now();
  }

  /** The policy in force for `domain`, or undefined when it has none (or none could be had). */
  async policyFor(domain: string): Promise<StsPolicy | undefined> {
    const key = domain.toLowerCase();
    const cached = this.cache.get(key);
    const live = cached && cached.expiresAt > this.now() ? cached : undefined;
    let id: string | false;
    try {
      id = await resolvePolicy(key, { resolver: async (name: string) => this.deps.resolveTxt(name) });
    } catch (err) {
      return live; // DNS trouble: an unexpired policy still applies (§5.1)
    }
    if (!id) return live; // TXT removed: the cached policy stays in force until it expires (§5.1)
    if (live && live.id === id) return live;
    try {
      const parsed = parsePolicy(await this.deps.fetchPolicy(key));
      const maxAge = parsed.maxAge ?? 0;
      const policy: StsPolicy = { id, mode: parsed.mode === 'enforce' || parsed.mode === 'testing' ? parsed.mode : 'none', mx: parsed.mx ?? [], maxAge, expiresAt: this.now() + maxAge * 1000 };
      this.cache.set(key, policy);
      return policy;
    } catch (err) {
      this.deps.warn?.('MTA-STS policy fetch failed', { domain: key, err: err instanceof Error ? err.message : String(err) });
      return live;
    }
  }
}

/** Whether `mx` is allowed by `policy` (§4.1; wildcards match one leftmost label). */
export function mxAllowed(mx: string, policy: StsPolicy): boolean {
  if (policy.mode === 'none') return true;
  const name = mx.toLowerCase().replace(/\.$/, '');
  const r = validateMx(name, { mode: policy.mode, mx: policy.mx, version: 'STSv1', maxAge: policy.maxAge });
  // mailauth lets "*.example.com" match any depth; §4.1 allows only the leftmost label.
  if (!r.valid || !r.match?.startsWith('.')) return r.valid;
  return !name.slice(0, -r.match.length).includes('.');
}
