/**
 * @module daemon/auth
 * Builds the per-process SPF/DKIM/DMARC evaluator: one caching DNS resolver (config `dns`) shared
 * by every message of the process, so a sender's records are fetched once per TTL, and
 * mailauth-based evaluation bounded by `authentication.deadlineMs`. Resolver settings are read at
 * start; a change to `dns` takes effect on restart. MAILGATE_DNS_SERVERS overrides dns.servers.
 * Touches: DNS servers (through the resolver).
 */
import { authenticate, resolverFromSettings, type CachingResolver } from '../auth/index.ts';
import type { Authenticator } from '../smtp/deps.ts';
import type { Runtime } from './runtime.ts';

export interface AuthService {
  authenticate: Authenticator;
  resolver: CachingResolver;
}

/** The evaluator for this process. */
export function createAuthService(rt: Runtime): AuthService {
  const resolver = resolverFromSettings(rt.snapshot().config.dns);
  const resolve = (name: string, rrtype: string): Promise<unknown> => resolver.resolve(name, rrtype);
  return {
    resolver,
    authenticate: (input) => authenticate(input, { resolver: resolve, deadlineMs: rt.snapshot().config.authentication.deadlineMs }),
  };
}
