/**
 * @module config/self-route
 * Refuses a route that points back at one of the gateway's own receive connectors (a mail loop:
 * every delivery is received again, queued again and delivered again). A route's host and port
 * name a listener when the port is the listener's and the host is its bind address, or, for a
 * listener bound to the any-address (0.0.0.0 / ::), any address of this machine: loopback
 * (127.0.0.0/8, ::1, "localhost"), an interface address, this host's name or the organization
 * hostname. A name that only DNS could map here is not caught; the hop count limit (RFC 5321
 * §6.3) stops such a loop.
 * Touches: reads the host name and interface addresses of the machine (node:os).
 * RFCs: 5321 §6.3 (loop detection), 6890 (loopback and unspecified addresses).
 */
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import type { Config } from './schema.ts';
import { ConfigError } from './compile.ts';

/** What this machine calls itself. */
export interface LocalIdentity {
  addresses: string[];
  names: string[];
}

/** The machine's interface addresses and names (lower case, IPv4-mapped IPv6 unwrapped). */
export function localIdentity(config: Config): LocalIdentity {
  const addresses = Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => normalize(a.address)));
  const names = [hostname(), config.organization.hostname].filter((n) => n !== '').map((n) => n.toLowerCase().replace(/\.$/, ''));
  return { addresses, names };
}

function normalize(host: string): string {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return h.startsWith('::ffff:') && isIP(h.slice(7)) === 4 ? h.slice(7) : h;
}

function isLoopback(host: string): boolean {
  return host === '::1' || host === 'localhost' || host.endsWith('.localhost') || (isIP(host) === 4 && host.startsWith('127.'));
}

function isAnyAddress(bind: string): boolean {
  return bind === '0.0.0.0' || bind === '::' || bind === '' || bind === '::0';
}

/** Whether a connection to `host` reaches a listener bound to `bind` (same port assumed). */
function reaches(host: string, bind: string, local: LocalIdentity): boolean {
  const h = normalize(host);
  const b = normalize(bind);
  if (h === b) return true;
  const localhost = (x: string): boolean => x === 'localhost' || x.endsWith('.localhost');
  if (localhost(h) && (b === '127.0.0.1' || b === '::1' || localhost(b))) return true;
  if (localhost(b) && (h === '127.0.0.1' || h === '::1')) return true;
  if (!isAnyAddress(b)) return false;
  return isLoopback(h) || isAnyAddress(h) || local.addresses.includes(h) || local.names.includes(h);
}

/** One error per smtp route whose host and port are one of our listeners. */
export function selfRouteErrors(config: Config, local: LocalIdentity = localIdentity(config), file?: string): ConfigError[] {
  const errors: ConfigError[] = [];
  config.routes.forEach((route, i) => {
    if (route.type !== 'smtp' || !route.host) return;
    const host = route.host;
    const own = config.receiveConnectors.find((l) => l.port === route.port && reaches(host, l.bind, local));
    if (own) {
      errors.push(new ConfigError(`routes[${i}].host`, `${host}:${route.port} is this gateway's own receive connector "${own.name}" (${own.bind}:${own.port}): a mail loop`, file));
    }
  });
  return errors;
}
