/**
 * @module test/helpers/clocked-resolver
 * For the result-cache tests (SPF, DMARC): a resolver on the test DNS server with a fake clock,
 * the cache under test, and the deps checkSpf/checkDmarc take; `advance` moves the clock.
 * Touches: nothing but the DNS server it is pointed at.
 */
import { createResolver } from '../../src/auth/index.ts';

/** The timeout is generous (a loaded CI machine) unless a test wants a short one. */
export function clockedResolver<C>(server: string, cache: C, timeoutMs = 2000) {
  let now = 10_000_000;
  const resolver = createResolver({ servers: [server], timeoutMs, tries: 1, clock: () => now });
  const deps = { resolver: resolver.resolve, tracked: resolver.tracked, cache, now: () => now };
  return { resolver, cache, deps, advance: (ms: number) => (now += ms) };
}
