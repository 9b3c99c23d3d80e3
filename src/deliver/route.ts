/**
 * @module deliver/route
 * Chooses the route (next hop) for each recipient: the most precise domain pattern wins
 * (exact "contoso.com" > the longest "*.contoso.com" > "*"), ties go to the first route in
 * configuration order — the same precedence Postfix's transport_maps give a full domain over a
 * parent ".domain" entry over "*".
 * Touches: nothing (pure).
 * RFCs: 5321 §2.3.5 (domain names), via core/address normalisation.
 */
import { matchDomainPattern, parseAddress } from '../core/address.ts';
import type { Route } from '../config/schema.ts';

/** Recipients grouped by the route that serves them; `unrouted` keeps those no route serves. */
export interface RouteGroups {
  byRoute: Map<Route, string[]>;
  /** Recipients without a route (or with an unparsable domain): the agent fails them 5.4.4. */
  unrouted: string[];
}

/** Precision of the best pattern of `route` for `domain`, or -1 when none matches. */
function routeScore(route: Route, domain: string): number {
  let best = -1;
  for (const pattern of route.domains) best = Math.max(best, matchDomainPattern(domain, pattern));
  return best;
}

/** The route serving `rcptDomain`: highest precision, first in order on a tie; undefined when none. */
export function selectRoute(routes: readonly Route[], rcptDomain: string): Route | undefined {
  let chosen: Route | undefined;
  let chosenScore = -1;
  for (const route of routes) {
    const score = routeScore(route, rcptDomain);
    if (score > chosenScore) {
      chosen = route;
      chosenScore = score;
    }
  }
  return chosen;
}

/** Group recipients by route, keeping the recipients' order inside each group. */
export function groupByRoute(routes: readonly Route[], recipients: readonly string[]): RouteGroups {
  const byRoute = new Map<Route, string[]>();
  const unrouted: string[] = [];
  for (const rcpt of recipients) {
    const parsed = parseAddress(rcpt);
    const route = parsed.invalid ? undefined : selectRoute(routes, parsed.domain);
    if (!route) {
      unrouted.push(rcpt);
      continue;
    }
    const list = byRoute.get(route);
    if (list) list.push(rcpt);
    else byRoute.set(route, [rcpt]);
  }
  return { byRoute, unrouted };
}
