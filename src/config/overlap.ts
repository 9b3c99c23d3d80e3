/**
 * @module config/overlap
 * Changes that would silently do nothing, refused at validation with both parties named:
 * two routes serving the same recipient-domain pattern (only the first in order would ever get
 * the mail), and two receive connectors on the same address and port (the second cannot bind;
 * an any-address bind `0.0.0.0` overlaps every IPv4 address, `::` every address, as a dual-stack
 * socket does). Port 0 (an ephemeral port) never overlaps.
 * Also the completeness check that `config apply` and friends run unless forced: a configuration
 * with no receive connector or no accepted domain receives no mail at all.
 * Touches: nothing.
 */
import { isIP } from 'node:net';
import { normalizeDomain } from '../core/address.ts';
import { normalizeIp } from '../core/cidr.ts';
import { ConfigError } from './compile.ts';
import type { Config } from './schema.ts';

/** A route domain pattern in canonical form ("*", "*.contoso.com", "contoso.com"). */
export function routePattern(d: string): string {
  if (d === '*') return '*';
  if (d.startsWith('*.')) return '*.' + normalizeDomain(d.slice(2));
  return normalizeDomain(d);
}

/** Throws a ConfigError when two routes serve the same domain pattern. */
export function checkRouteOverlap(config: Config): void {
  const owner = new Map<string, string>();
  config.routes.forEach((r, i) => {
    const own = new Set<string>();
    r.domains.forEach((d, j) => {
      const p = routePattern(d);
      const other = owner.get(p);
      if (other !== undefined && !own.has(p)) {
        throw new ConfigError(
          `routes[${i}].domains[${j}]`,
          `routes "${other}" and "${r.name}" both serve "${p}": only "${other}" would get that mail (remove or change one; the CLI's route add --replace swaps it)`,
        );
      }
      own.add(p);
      owner.set(p, r.name);
    });
  });
}

type Bind = { any: 'v4' | 'v6' | false; addr: string; family: number };

/** An IP in one spelling (IPv6 compressed by the URL parser: 0:0::1 → ::1). */
function canonicalIp(raw: string): string {
  const ip = normalizeIp(raw);
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

function bindOf(raw: string): Bind {
  const ip = canonicalIp(raw);
  if (ip === '0.0.0.0') return { any: 'v4', addr: ip, family: 4 };
  if (ip === '::') return { any: 'v6', addr: ip, family: 6 };
  return { any: false, addr: ip || raw.trim().toLowerCase(), family: ip ? isIP(ip) : 0 };
}

/** True when two binds on one port would collide. */
export function bindsOverlap(a: string, b: string): boolean {
  const x = bindOf(a);
  const y = bindOf(b);
  if (x.addr === y.addr) return true;
  if (x.any === 'v6' || y.any === 'v6') return true;
  if (x.any === 'v4') return y.family === 4;
  if (y.any === 'v4') return x.family === 4;
  return false;
}

/** Throws a ConfigError when two receive connectors would listen on the same address and port. */
export function checkListenerOverlap(config: Config): void {
  const ls = config.receiveConnectors;
  ls.forEach((l, i) => {
    if (l.port === 0) return;
    for (let j = 0; j < i; j++) {
      const o = ls[j];
      if (!o || o.port !== l.port || !bindsOverlap(o.bind, l.bind)) continue;
      throw new ConfigError(
        `receiveConnectors[${i}].port`,
        `receive connectors "${o.name}" (${o.bind}:${o.port}) and "${l.name}" (${l.bind}:${l.port}) use the same address and port: the second could not listen`,
      );
    }
  });
}

/** Why a configuration would receive no mail (empty when it would). */
export function completenessProblems(config: Config): string[] {
  const out: string[] = [];
  if (config.receiveConnectors.length === 0) out.push('it has no receive connector (listener): the gateway would listen on nothing');
  if (config.acceptedDomains.length === 0) out.push('it has no accepted domain: every recipient would be refused as relaying (5.7.64)');
  return out;
}
