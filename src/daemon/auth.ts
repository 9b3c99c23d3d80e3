/**
 * @module daemon/auth
 * Builds the per-process SPF/DKIM/DMARC evaluator: one caching DNS resolver (config `dns`) shared
 * by every message of the process, so a sender's records are fetched once per TTL, and
 * mailauth-based evaluation bounded by `authentication.deadlineMs`. Resolver settings are read at
 * start; a change to `dns` takes effect on restart. MAILGATE_DNS_SERVERS overrides dns.servers.
 * Touches: DNS servers (through the resolver).
 */
import { authenticate, createResolver, type CachingResolver } from '../auth/index.ts';
import type { Authenticator } from '../smtp/deps.ts';
import type { Runtime } from './runtime.ts';

export interface AuthService {
  authenticate: Authenticator;
  resolver: CachingResolver;
}

/** The evaluator for this process. */
export function createAuthService(rt: Runtime): AuthService {
  const cfg = rt.snapshot().config;
  // MAILGATE_DNS_SERVERS (comma separated) overrides dns.servers: the seam tests use to keep every
  // lookup on loopback, as mailauth's CLI has --dns-cache.
  const envServers = (process.env.MAILGATE_DNS_SERVERS ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const servers = envServers.length ? envServers : cfg.dns.servers;
  const resolver = createResolver({
    ...(servers.length ? { servers } : {}),
    timeoutMs: cfg.dns.timeoutMs,
    tries: cfg.dns.tries,
    maxEntries: cfg.dns.cacheEntries,
    negativeTtlSeconds: cfg.dns.negativeTtlSeconds,
  });
  const resolve = (name: string, rrtype: string): Promise<unknown> => resolver.resolve(name, rrtype);
  return {
    resolver,
    authenticate: (input) => authenticate(input, { resolver: resolve, deadlineMs: rt.snapshot().config.authentication.deadlineMs }),
  };
}
