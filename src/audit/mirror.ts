/**
 * @module audit/mirror
 * `audit mirror`: the imported tenant as mailgate configuration, so mailgate in front of Exchange
 * Online enforces what Exchange enforces (reference §1.3, §2, §3.4): accepted domains with their
 * types, inbound connectors with the same names, types, IPs, certificate names, restrictions and
 * enabled state, and `organization.rejectDirectSend`. What has no mailgate equivalent is listed,
 * never dropped silently: ExternalRelay domains (on-premises only), connector settings such as
 * TrustedOrganizations or EFSkipIPs, IP ranges in a form mailgate does not take, restrictions
 * Exchange ignores (on OnPremises connectors), outbound connectors (mailgate's routes are set
 * apart) and transport rules (mailgate has no transport rules yet).
 * A kind that was not imported leaves the base configuration's section as it is.
 * Touches: nothing (pure).
 */
import { parseCidr } from '../core/cidr.ts';
import type { ConfigInput } from '../config/index.ts';
import type { TenantConfig, TenantInboundConnector } from './tenant-model.ts';

export interface Mirror {
  /** The parts of the configuration the tenant decides (merge over a base). */
  config: Pick<ConfigInput, 'acceptedDomains' | 'inboundConnectors'> & { organization?: { rejectDirectSend: boolean } };
  /** What could not be mirrored, one sentence each. */
  notMirrored: string[];
}

type MirroredConnector = NonNullable<ConfigInput['inboundConnectors']>[number];

const DOMAIN = /^(\*|\*\.)?[A-Za-z0-9\u00a0-\uffff]([A-Za-z0-9\u00a0-\uffff.-]*[A-Za-z0-9\u00a0-\uffff])?\.?$|^\*$/;

function validIp(entry: string): boolean {
  try {
    parseCidr(entry);
    return true;
  } catch {
    return false;
  }
}

function mirrorConnector(c: TenantInboundConnector, out: string[]): MirroredConnector {
  const label = `inbound connector "${c.name}"`;
  const ips = c.senderIPAddresses.filter((ip) => validIp(ip) || (out.push(`${label}: SenderIPAddresses entry "${ip}" is not an IP or CIDR mailgate takes (a range a-b?); left out`), false));
  const domains = c.senderDomains.filter((d) => DOMAIN.test(d) || (out.push(`${label}: SenderDomains entry "${d}" is not a domain; left out`), false));
  const partner = c.connectorType === 'Partner';
  let rIp = c.restrictDomainsToIPAddresses;
  let rCert = c.restrictDomainsToCertificate;
  if (!partner && (rIp || rCert)) {
    out.push(`${label}: RestrictDomainsTo* set on an OnPremises connector, where Exchange ignores it (Partner only); not mirrored`);
    rIp = rCert = false;
  }
  if (rIp && ips.length === 0) {
    out.push(`${label}: RestrictDomainsToIPAddresses without a usable SenderIPAddresses entry; mirrored without the restriction`);
    rIp = false;
  }
  if (rCert && !c.tlsSenderCertificateName) {
    out.push(`${label}: RestrictDomainsToCertificate without TlsSenderCertificateName; mirrored without the restriction`);
    rCert = false;
  }
  if (c.requireTls === null) out.push(`${label}: RequireTls not in the export; mirrored as false (Exchange documents $true as the default: check it)`);
  for (const u of c.unsupported) out.push(`${label}: ${u} has no mailgate equivalent; not mirrored`);
  const cert = c.tlsSenderCertificateName && DOMAIN.test(c.tlsSenderCertificateName) ? c.tlsSenderCertificateName : undefined;
  if (c.tlsSenderCertificateName && !cert) out.push(`${label}: TlsSenderCertificateName "${c.tlsSenderCertificateName}" is not a domain name; left out`);
  return {
    name: c.name,
    connectorType: c.connectorType,
    senderIPAddresses: ips,
    senderDomains: domains.length ? domains : ['*'],
    ...(cert ? { tlsSenderCertificateName: cert } : {}),
    requireTls: c.requireTls ?? false,
    restrictDomainsToIPAddresses: rIp,
    restrictDomainsToCertificate: rCert && cert !== undefined,
    enabled: c.enabled,
    comment: c.comment,
  };
}

/** Mirror a tenant (module header). */
export function mirrorTenant(t: TenantConfig): Mirror {
  const notMirrored: string[] = [];
  const config: Mirror['config'] = {};
  if (t.acceptedDomains) {
    config.acceptedDomains = [];
    for (const d of t.acceptedDomains) {
      if (d.domainType === 'ExternalRelay') {
        notMirrored.push(`accepted domain ${d.domainName}: ExternalRelay exists only in on-premises Exchange; not mirrored`);
        continue;
      }
      if (d.matchSubDomains && d.domainType !== 'InternalRelay') notMirrored.push(`accepted domain ${d.domainName}: MatchSubDomains needs InternalRelay; mirrored without it`);
      config.acceptedDomains.push({ domainName: d.domainName, domainType: d.domainType, matchSubDomains: d.matchSubDomains && d.domainType === 'InternalRelay' });
    }
  } else notMirrored.push('no Get-AcceptedDomain output imported: the accepted domains of the base configuration are kept');
  if (t.inboundConnectors) {
    const seen = new Set<string>();
    config.inboundConnectors = [];
    for (const c of t.inboundConnectors) {
      if (seen.has(c.name.toLowerCase())) {
        notMirrored.push(`inbound connector "${c.name}": a second connector of that name; not mirrored`);
        continue;
      }
      seen.add(c.name.toLowerCase());
      config.inboundConnectors.push(mirrorConnector(c, notMirrored));
    }
  } else notMirrored.push('no Get-InboundConnector output imported: the inbound connectors of the base configuration are kept');
  if (t.organization) {
    config.organization = { rejectDirectSend: t.organization.rejectDirectSend ?? false };
    if (t.organization.rejectDirectSend === null) notMirrored.push('RejectDirectSend is not set in Get-OrganizationConfig: mirrored as false (Exchange\'s default)');
  } else notMirrored.push('no Get-OrganizationConfig output imported: rejectDirectSend of the base configuration is kept');
  for (const o of t.outboundConnectors ?? []) {
    notMirrored.push(`outbound connector "${o.name}"${o.smartHosts.length ? ` (smart hosts ${o.smartHosts.join(', ')})` : ''}: not mirrored; mailgate's next hops are routes (mailgate route add)`);
  }
  for (const r of t.transportRules ?? []) {
    notMirrored.push(`transport rule "${r.name}" (${r.mode}, ${r.enabled ? 'enabled' : 'disabled'}): not mirrored; mailgate has no transport rules yet (see mailgate audit lint)`);
  }
  return { config, notMirrored };
}
