/**
 * @module auth/configured
 * The one way a process builds its DNS resolver from the `dns` settings (gateway, reports, audit
 * plan alike): servers from the config, or from MAILGATE_DNS_SERVERS when set (comma separated —
 * the seam tests use to keep every lookup on loopback, as mailauth's CLI has --dns-cache).
 * Takes the settings as plain data so auth/ stays free of config/.
 * Touches: nothing until a lookup is made (then DNS servers).
 */
import { createResolver, type CachingResolver } from './resolver.ts';

/** The `dns` settings (config/schema.ts dnsSchema), structurally. */
export interface DnsSettings {
  servers: readonly string[];
  timeoutMs: number;
  tries: number;
  cacheEntries: number;
  negativeTtlSeconds: number;
}

/** A caching resolver for these settings; undefined settings = the defaults on the system's servers. */
export function resolverFromSettings(dns: DnsSettings | undefined, env: NodeJS.ProcessEnv = process.env): CachingResolver {
  const fromEnv = (env.MAILGATE_DNS_SERVERS ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const servers = fromEnv.length ? fromEnv : [...(dns?.servers ?? [])];
  return createResolver({
    ...(servers.length ? { servers } : {}),
    ...(dns ? { timeoutMs: dns.timeoutMs, tries: dns.tries, maxEntries: dns.cacheEntries, negativeTtlSeconds: dns.negativeTtlSeconds } : {}),
  });
}
