/**
 * @module config/compile
 * Turns a validated Config into the frozen PolicySnapshot the pure policy reads: CIDR lists become
 * matchers, domains are normalised, disabled connectors dropped, per-listener settings resolved.
 * A bad entry throws a ConfigError naming its path, so it is refused at load, never discovered
 * while mail arrives (Hono buildMatcher; Postfix smtpd_check_parse).
 * Touches: nothing.
 */
import { compileCidrs, type CidrMatcher } from '../core/cidr.ts';
import { normalizeDomain, parseAddress } from '../core/address.ts';
import type { Config } from './schema.ts';
import { compileRules, RuleCompileError, type CompiledRules } from '../policy/rules/index.ts';
import type { PolicySnapshot, CompiledConnector, CompiledListener, CompiledUser } from '../policy/types.ts';

/** A configuration problem, with the path of the offending entry ("inboundConnectors[2].senderIPAddresses[0]"). */
export class ConfigError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly file?: string,
  ) {
    super(`${file ? file + ': ' : ''}${path}: ${reason}`);
    this.name = 'ConfigError';
  }
}

function cidrs(list: readonly string[], path: string): CidrMatcher {
  list.forEach((entry, i) => {
    try {
      compileCidrs([entry]);
    } catch (e) {
      throw new ConfigError(`${path}[${i}]`, (e as Error).message);
    }
  });
  return compileCidrs(list);
}

function domainPattern(d: string): string {
  if (d === '*') return '*';
  if (d.startsWith('*.')) return '*.' + normalizeDomain(d.slice(2));
  return normalizeDomain(d);
}

function uniqueNames(items: readonly { name: string }[], path: string): void {
  const seen = new Set<string>();
  items.forEach((it, i) => {
    const k = it.name.toLowerCase();
    if (seen.has(k)) throw new ConfigError(`${path}[${i}].name`, `duplicate name "${it.name}"`);
    seen.add(k);
  });
}

function compileUser(u: Config['users'][number]): CompiledUser {
  let sendAs = u.sendAs.map((s) => (s === '*' ? '*' : s.startsWith('@') ? '@' + normalizeDomain(s.slice(1)) : parseAddress(s).address));
  if (sendAs.length === 0) {
    const own = parseAddress(u.name);
    sendAs = own.invalid || own.domain === '' ? [] : [own.address];
  }
  return Object.freeze({ name: u.name, sendAs: Object.freeze(sendAs) });
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) {
      // Matchers are objects with closures; freezing them is harmless.
      deepFreeze(v);
    }
  }
  return o;
}

/** Compile the transport rules, a bad one refused with its path. */
function rulesOf(config: Config): CompiledRules {
  try {
    return compileRules(config.transportRules);
  } catch (e) {
    if (e instanceof RuleCompileError) throw new ConfigError(e.path, e.reason);
    throw e;
  }
}

/** Compile a validated config into a frozen PolicySnapshot. Throws ConfigError. */
export function compilePolicy(config: Config, version: number): PolicySnapshot {
  uniqueNames(config.inboundConnectors, 'inboundConnectors');
  uniqueNames(config.receiveConnectors, 'receiveConnectors');
  uniqueNames(config.routes, 'routes');
  uniqueNames(config.users, 'users');
  const seenDomains = new Set<string>();
  const acceptedDomains = config.acceptedDomains.map((d, i) => {
    const name = normalizeDomain(d.domainName);
    if (!name || name.includes('*')) throw new ConfigError(`acceptedDomains[${i}].domainName`, `invalid accepted domain "${d.domainName}"`);
    if (seenDomains.has(name)) throw new ConfigError(`acceptedDomains[${i}].domainName`, `duplicate accepted domain "${name}"`);
    seenDomains.add(name);
    return { domainName: name, domainType: d.domainType, matchSubDomains: d.matchSubDomains };
  });
  const connectors: CompiledConnector[] = [];
  config.inboundConnectors.forEach((c, i) => {
    const ips = cidrs(c.senderIPAddresses, `inboundConnectors[${i}].senderIPAddresses`);
    if (!c.enabled) return;
    connectors.push({
      name: c.name,
      connectorType: c.connectorType,
      ips,
      senderDomains: c.senderDomains.map(domainPattern),
      tlsSenderCertificateName: c.tlsSenderCertificateName ? domainPattern(c.tlsSenderCertificateName) : undefined,
      requireTls: c.requireTls,
      restrictDomainsToIPAddresses: c.restrictDomainsToIPAddresses,
      restrictDomainsToCertificate: c.restrictDomainsToCertificate,
    });
  });
  const listeners: Record<string, CompiledListener> = {};
  config.receiveConnectors.forEach((l, i) => {
    listeners[l.name] = {
      name: l.name,
      role: l.role,
      remoteIPRanges: l.remoteIPRanges.length ? cidrs(l.remoteIPRanges, `receiveConnectors[${i}].remoteIPRanges`) : undefined,
      requireAuth: l.requireAuth ?? l.role === 'submission',
      defaultDeny: l.defaultDeny,
      maxRecipients: l.maxRecipients,
    };
  });
  const users: Record<string, CompiledUser> = {};
  for (const u of config.users) users[u.name.toLowerCase()] = compileUser(u);
  const snapshot: PolicySnapshot = {
    version,
    organization: {
      rejectDirectSend: config.organization.rejectDirectSend,
      rejectDirectSendHeaderFrom: config.organization.rejectDirectSendHeaderFrom,
      honorDmarcPolicy: config.organization.honorDmarcPolicy,
    },
    acceptedDomains,
    connectors,
    listeners,
    allow: { ips: cidrs(config.lists.allow.ips, 'lists.allow.ips'), senderDomains: config.lists.allow.senderDomains.map(domainPattern) },
    block: { ips: cidrs(config.lists.block.ips, 'lists.block.ips'), senderDomains: config.lists.block.senderDomains.map(domainPattern) },
    users,
    rules: rulesOf(config),
  };
  return deepFreeze(snapshot);
}
