/**
 * @module daemon/auth
 * Builds the per-process SPF/DKIM/DMARC evaluator: one caching DNS resolver (config `dns`) shared
 * by every message of the process, so a sender's records are fetched once per TTL, SPF and DMARC
 * result caches over it (auth/spf, auth/dmarc: a result lives as long as the answers it used), and mailauth-based
 * evaluation bounded by `authentication.deadlineMs`. Resolver settings are read at
 * start; a change to `dns` takes effect on restart. MAILGATE_DNS_SERVERS overrides dns.servers.
 * Touches: DNS servers (through the resolver).
 */
import { authenticate, checkSpf, DmarcCache, resolverFromSettings, SpfCache, type CachingResolver } from '../auth/index.ts';
import type { Authenticator, SpfChecker } from '../smtp/deps.ts';
import type { Runtime } from './runtime.ts';

export interface AuthService {
  authenticate: Authenticator;
  checkSpf: SpfChecker;
  resolver: CachingResolver;
  spfCache: SpfCache;
  dmarcCache: DmarcCache;
}

/** The evaluator for this process. */
export function createAuthService(rt: Runtime): AuthService {
  const resolver = resolverFromSettings(rt.snapshot().config.dns);
  const resolve = (name: string, rrtype: string): Promise<unknown> => resolver.resolve(name, rrtype);
  const tracked = (): ReturnType<CachingResolver['tracked']> => resolver.tracked();
  const spfCache = new SpfCache(rt.snapshot().config.dns.cacheEntries);
  const dmarcCache = new DmarcCache(rt.snapshot().config.dns.cacheEntries);
  return {
    resolver,
    spfCache,
    dmarcCache,
    checkSpf: (input) => checkSpf(input, { resolver: resolve, tracked, cache: spfCache }),
    authenticate: (input) =>
      authenticate(input, { resolver: resolve, tracked, cache: spfCache, dmarcCache, deadlineMs: rt.snapshot().config.authentication.deadlineMs, maxDkimSignatures: rt.snapshot().config.authentication.maxDkimSignatures }),
  };
}
