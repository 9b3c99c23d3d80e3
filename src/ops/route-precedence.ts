/**
 * @module ops/route-precedence
 * Which route serves which recipient domain, for `route show` and the API (a sample of domains, the winner
 * marked) and `route add --replace` (the new route takes its domain patterns over from the routes
 * that served them; a route left serving nothing is removed). The precedence is delivery's:
 * exact domain over the longest `*.domain` over `*`, first in order on a tie.
 * Touches: nothing (pure over the config it is given).
 */
import { matchDomainPattern } from '../core/address.ts';
import { routePattern, type Config, type Route } from '../config/index.ts';

/** The route serving `domain` (delivery's precedence), or undefined. */
export function winningRoute(routes: readonly Route[], domain: string): Route | undefined {
  let best: Route | undefined;
  let score = -1;
  for (const r of routes) {
    const s = Math.max(-1, ...r.domains.map((p) => matchDomainPattern(domain, p)));
    if (s > score) [best, score] = [r, s];
  }
  return best;
}

/** Sample recipient domains: the accepted domains, one per route pattern, and an outside one. */
export function sampleDomains(config: Config): string[] {
  const out = new Set<string>(config.acceptedDomains.map((d) => d.domainName.toLowerCase()));
  for (const r of config.routes) {
    for (const p of r.domains.map(routePattern)) if (p !== '*') out.add(p.startsWith('*.') ? `host.${p.slice(2)}` : p);
  }
  out.add('outside.example');
  return [...out];
}

/** Rows `domain, route, wins` for `route show NAME`. */
export function precedenceRows(config: Config, name: string): Record<string, unknown>[] {
  return sampleDomains(config).map((domain) => {
    const w = winningRoute(config.routes, domain);
    return { domain, route: w?.name ?? '(none: fails 5.4.4)', wins: w?.name.toLowerCase() === name.toLowerCase() ? 'yes' : '' };
  });
}

/**
 * Make `route` the only one serving its patterns: drop them from every other route; a route left
 * with none is removed. Returns one note per route changed.
 */
export function takeOverPatterns(draft: Config, route: Route): string[] {
  const mine = new Set(route.domains.map(routePattern));
  const notes: string[] = [];
  draft.routes = draft.routes.filter((r) => {
    if (r === route) return true;
    const lost = r.domains.filter((d) => mine.has(routePattern(d)));
    if (lost.length === 0) return true;
    r.domains = r.domains.filter((d) => !mine.has(routePattern(d)));
    notes.push(r.domains.length ? `route ${r.name} no longer serves ${lost.join(', ')}` : `route ${r.name} removed (it served only ${lost.join(', ')})`);
    return r.domains.length > 0;
  });
  return notes;
}
