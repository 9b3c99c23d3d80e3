/**
 * @module audit/tenant-cover
 * Which Direct Send sources an inbound connector the tenant already has covers, so the plan does
 * not plan them again (reference §3.2–§3.4): an enabled connector covers a source when the
 * source's certificate name matches its `TlsSenderCertificateName` (exact, or `*.domain` = the
 * domain and its subdomains), or its client IP is in its `SenderIPAddresses`, and — for a Partner
 * connector — the sender domain is in its `SenderDomains` (`*` = any). A certificate match wins
 * over an IP match (Exchange looks certificates up first). As the gateway decides (policy/attribute),
 * a connector restricted to its certificate is used by IP only if the certificate matches too, and
 * one restricted to its IPs by certificate only if the IP matches too. Disabled connectors cover nothing.
 * Touches: nothing (pure).
 */
import { matchDomainPattern } from '../core/address.ts';
import { compileCidrs } from '../core/cidr.ts';
import type { TenantConfig, TenantInboundConnector } from './tenant-model.ts';

/** The facts of a source that decide coverage. */
export interface CoverableSource {
  clientIp: string;
  senderDomain: string;
  certCn?: string | undefined;
}

export interface Coverage {
  connector: string;
  connectorType: 'Partner' | 'OnPremises';
  by: 'certificate' | 'ip';
  /** The connector entry that matched (certificate name or IP/CIDR). */
  entry: string;
}

function ipMatch(c: TenantInboundConnector, ip: string): string | undefined {
  try {
    return compileCidrs(c.senderIPAddresses).match(ip.replace(/^::ffff:/i, ''))?.entry;
  } catch {
    return undefined; // an entry mailgate cannot parse matches nothing here; mirror reports it
  }
}

function certOk(c: TenantInboundConnector, cn: string | undefined): boolean {
  return Boolean(cn && c.tlsSenderCertificateName && matchDomainPattern(cn, c.tlsSenderCertificateName) >= 0);
}

/** The connector that already covers `source`, or undefined. */
export function coveredBy(tenant: Pick<TenantConfig, 'inboundConnectors'>, source: CoverableSource): Coverage | undefined {
  const connectors = (tenant.inboundConnectors ?? []).filter((c) => c.enabled);
  const domainOk = (c: TenantInboundConnector): boolean =>
    c.connectorType === 'OnPremises' || c.senderDomains.length === 0 || c.senderDomains.some((p) => matchDomainPattern(source.senderDomain, p) >= 0);
  if (source.certCn) {
    for (const c of connectors) {
      if (c.tlsSenderCertificateName && certOk(c, source.certCn) && domainOk(c) && (!c.restrictDomainsToIPAddresses || ipMatch(c, source.clientIp))) {
        return { connector: c.name, connectorType: c.connectorType, by: 'certificate', entry: c.tlsSenderCertificateName };
      }
    }
  }
  for (const c of connectors) {
    const entry = ipMatch(c, source.clientIp);
    if (entry && domainOk(c) && (!c.restrictDomainsToCertificate || certOk(c, source.certCn))) return { connector: c.name, connectorType: c.connectorType, by: 'ip', entry };
  }
  return undefined;
}
