/**
 * @module audit/tenant-model
 * The tenant's own configuration as mailgate keeps it after `audit import-config`: accepted
 * domains, inbound and outbound connectors, the organization's RejectDirectSend and the transport
 * rules, with Exchange's names and Exchange's value forms already normalised (reference §2, §3.4,
 * §5.5, §8): `smtp:contoso.com;1` → `contoso.com`, enum numbers → their names, null tri-state →
 * `null` ("not set"), IP ranges → CIDR text, .NET class names of rule predicates and actions →
 * their short names (`FromScopePredicate`, `PrependSubjectAction`).
 * Touches: nothing (types and pure value helpers).
 */

export type TenantDomainType = 'Authoritative' | 'InternalRelay' | 'ExternalRelay';

export interface TenantAcceptedDomain {
  domainName: string;
  domainType: TenantDomainType;
  matchSubDomains: boolean;
  default: boolean;
}

export interface TenantInboundConnector {
  name: string;
  connectorType: 'Partner' | 'OnPremises';
  enabled: boolean;
  senderIPAddresses: string[];
  senderDomains: string[];
  tlsSenderCertificateName: string | null;
  /** null: not in the export (Exchange's documented default is $true). */
  requireTls: boolean | null;
  restrictDomainsToIPAddresses: boolean;
  restrictDomainsToCertificate: boolean;
  comment: string;
  /** Settings mailgate has no equivalent for, as `Name=value` (only those set to a non-default value). */
  unsupported: string[];
}

export interface TenantOutboundConnector {
  name: string;
  enabled: boolean;
  connectorType: string;
  smartHosts: string[];
  recipientDomains: string[];
  tlsSettings: string | null;
}

export interface TenantOrganization {
  name: string | null;
  /** null: the export had no value (not set, or a tenant from before the setting existed). */
  rejectDirectSend: boolean | null;
}

export type RuleMode = 'Enforce' | 'Audit' | 'AuditAndNotify';
export type SenderAddressLocation = 'Header' | 'Envelope' | 'HeaderOrEnvelope';

/** A transport rule, reduced to what the linter and the mirror read (reference §8). */
export interface TenantTransportRule {
  name: string;
  priority: number | null;
  mode: RuleMode;
  enabled: boolean;
  /** Short predicate names (`FromScopePredicate`, `SenderDomainIsPredicate` …). */
  conditions: string[];
  exceptions: string[];
  /** Short action names (`PrependSubjectAction`, `QuarantineAction` …). */
  actions: string[];
  fromScope: string | null;
  senderDomainIs: string[];
  senderAddressLocation: SenderAddressLocation;
  senderIpRanges: string[];
  exceptIfSenderIpRanges: string[];
  setScl: number | null;
  prependSubject: string | null;
  blindCopyTo: string[];
  quarantine: boolean;
  redirectMessageTo: string[];
  rejectMessageReasonText: string | null;
  deleteMessage: boolean;
  stopRuleProcessing: boolean;
  description: string;
}

/** Everything imported for one tenant; a kind never imported is `undefined`. */
export interface TenantConfig {
  name: string;
  acceptedDomains?: TenantAcceptedDomain[];
  inboundConnectors?: TenantInboundConnector[];
  outboundConnectors?: TenantOutboundConnector[];
  organization?: TenantOrganization;
  transportRules?: TenantTransportRule[];
}

/** `smtp:*;1`, `SMTP:contoso.com;1`, `contoso.com` → `*`, `contoso.com` (lower case). */
export function addressSpace(v: string): string {
  const m = /^\s*(?:[A-Za-z]+:)?([^;]+?)(?:;\s*\d+)?\s*$/.exec(v);
  return (m?.[1] ?? v).trim().toLowerCase();
}

/** The short name of a .NET class (`Microsoft.Exchange.….Tasks.FromScopePredicate` → `FromScopePredicate`). */
export function shortClassName(v: string): string {
  const t = v.trim();
  const dot = t.lastIndexOf('.');
  return dot >= 0 ? t.slice(dot + 1) : t;
}

/** An Exchange enum as its name: strings as they are (case fixed from `names`), numbers by `numbers`. */
export function enumValue<T extends string>(v: unknown, names: readonly T[], numbers: Readonly<Record<number, T>>): T | undefined {
  if (typeof v === 'number') return numbers[v];
  if (typeof v !== 'string') return undefined;
  const t = v.trim().toLowerCase();
  return names.find((n) => n.toLowerCase() === t) ?? (/^\d+$/.test(t) ? numbers[Number(t)] : undefined);
}

/** A boolean of ConvertTo-Json: true/false, "True"/"False", 1/0; null and absent → null (tri-state). */
export function triState(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') {
    const t = v.trim().toLowerCase();
    if (t === 'true' || t === '$true') return true;
    if (t === 'false' || t === '$false') return false;
  }
  return null;
}
