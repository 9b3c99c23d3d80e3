/**
 * @module test/audit/tenant-fixtures
 * The tenant's configuration as PowerShell writes it (reference §5.5): `Get-X | ConvertTo-Json
 * -Depth 5 | Out-File x.json`. `ps7` is PowerShell 7 with the REST module (enum names, UTF-8
 * without BOM); `ps51` is Windows PowerShell 5.1 (enum numbers, arrays wrapped as
 * {"value":[…],"Count":n}, `\/Date(…)\/` dates, UTF-16 LE with BOM from Out-File). A single
 * object is written bare, as ConvertTo-Json does when the pipeline held one item.
 * Touches: files in the directory a test gives.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type Shell = 'ps7' | 'ps51';
type Obj = Record<string, unknown>;

/** Write objects as `ConvertTo-Json -Depth 5 | Out-File` of that shell writes them. */
export function writeJson(dir: string, name: string, items: Obj[], shell: Shell): string {
  const value = items.length === 1 ? items[0] : items;
  const text = JSON.stringify(value, null, shell === 'ps51' ? 4 : 2).replace(/\n/g, '\r\n');
  const file = join(dir, name);
  if (shell === 'ps51') writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
  else writeFileSync(file, text);
  return file;
}

const mv = (shell: Shell, items: unknown[]): unknown => (shell === 'ps51' ? { value: items, Count: items.length } : items);
const date = (shell: Shell): string => (shell === 'ps51' ? '/Date(1772359200000)/' : '2026-03-01T10:00:00Z');

export function acceptedDomain(shell: Shell, domainName: string, type: 'Authoritative' | 'InternalRelay' | 'ExternalRelay', extra: Obj = {}): Obj {
  const n = { Authoritative: 0, ExternalRelay: 1, InternalRelay: 2 }[type];
  return { DomainName: domainName, DomainType: shell === 'ps51' ? n : type, MatchSubDomains: false, Default: false, InitialDomain: false, Name: domainName, Identity: domainName, WhenChangedUTC: date(shell), IsValid: true, ...extra };
}

export interface ConnectorSpec {
  name: string;
  type: 'Partner' | 'OnPremises';
  ips?: string[];
  domains?: string[];
  cert?: string | null;
  requireTls?: boolean | null;
  restrictIp?: boolean;
  restrictCert?: boolean;
  enabled?: boolean;
  extra?: Obj;
}

/** A Get-InboundConnector object with all 28 keys. */
export function inboundConnector(shell: Shell, c: ConnectorSpec): Obj {
  return {
    Enabled: c.enabled ?? true,
    ConnectorType: shell === 'ps51' ? (c.type === 'Partner' ? 2 : 1) : c.type,
    ConnectorSource: 'AdminUI',
    Comment: null,
    SenderIPAddresses: mv(shell, c.ips ?? []),
    SenderDomains: mv(shell, (c.domains ?? ['*']).map((d) => `smtp:${d};1`)),
    TrustedOrganizations: mv(shell, []),
    ClientHostNames: mv(shell, []),
    AssociatedAcceptedDomains: mv(shell, []),
    RequireTls: c.requireTls === undefined ? false : c.requireTls,
    RestrictDomainsToIPAddresses: c.restrictIp ?? false,
    RestrictDomainsToCertificate: c.restrictCert ?? false,
    CloudServicesMailEnabled: false,
    TreatMessagesAsInternal: false,
    TlsSenderCertificateName: c.cert ?? null,
    EFTestMode: false,
    ScanAndDropRecipients: mv(shell, []),
    EFSkipLastIP: false,
    EFSkipIPs: mv(shell, []),
    EFSkipMailGateway: mv(shell, []),
    EFUsers: mv(shell, []),
    AdminDisplayName: '',
    Name: c.name,
    Identity: c.name,
    WhenChangedUTC: date(shell),
    WhenCreatedUTC: date(shell),
    Guid: '6f1c2b1e-0000-4000-8000-00000000c0de',
    IsValid: true,
    ...c.extra,
  };
}

export function outboundConnector(shell: Shell, name: string, smartHost: string): Obj {
  return { Enabled: true, ConnectorType: shell === 'ps51' ? 2 : 'Partner', ConnectorSource: 'AdminUI', RecipientDomains: mv(shell, ['*']), SmartHosts: mv(shell, [smartHost]), TlsDomain: null, TlsSettings: null, MtaStsMode: null, SmtpDaneMode: null, UseMXRecord: false, Name: name, Identity: name };
}

/** Get-OrganizationConfig: a handful of its ~336 keys, several null (tri-state). */
export function organizationConfig(shell: Shell, rejectDirectSend: boolean | null): Obj {
  return {
    DisplayName: 'Contoso',
    Name: 'contoso.onmicrosoft.com',
    RejectDirectSend: rejectDirectSend,
    OAuth2ClientProfileEnabled: true,
    SmtpActionableMessagesEnabled: true,
    AuditDisabled: false,
    DefaultPublicFolderAgeLimit: null,
    DirectReportsGroupAutoCreationEnabled: null,
    IsDehydrated: false,
    MailTipsExternalRecipientsTipsEnabled: null,
    WhenChangedUTC: date(shell),
  };
}

export interface RuleSpec {
  name: string;
  mode?: 'Enforce' | 'Audit' | 'AuditAndNotify';
  state?: 'Enabled' | 'Disabled';
  priority?: number;
  fromScope?: 'InOrganization' | 'NotInOrganization' | null;
  senderDomainIs?: string[];
  location?: 'Header' | 'Envelope' | 'HeaderOrEnvelope';
  prependSubject?: string | null;
  bcc?: string[];
  quarantine?: boolean | null;
  setScl?: number | null;
  exceptIps?: string[];
  /** Write Conditions/Actions as serialized objects (5.1 -Depth 5) instead of class names. */
  objects?: boolean;
}

const NS = 'Microsoft.Exchange.MessagingPolicies.Rules.Tasks.';

/** A Get-TransportRule object: parameters plus Conditions/Actions as .NET class names (or objects). */
export function transportRule(shell: Shell, r: RuleSpec): Obj {
  const conds: string[] = [];
  if (r.fromScope) conds.push('FromScopePredicate');
  if (r.senderDomainIs?.length) conds.push('SenderDomainIsPredicate');
  const acts: string[] = [];
  if (r.prependSubject) acts.push('PrependSubjectAction');
  if (r.bcc?.length) acts.push('BlindCopyToAction');
  if (r.quarantine) acts.push('QuarantineAction');
  if (r.setScl !== undefined && r.setScl !== null) acts.push('SetSCLAction');
  const render = (names: string[]): unknown =>
    r.objects ? mv(shell, names.map((n) => ({ Name: n.replace(/(Predicate|Action)$/, ''), TypeNames: [`Deserialized.${NS}${n}`, 'Deserialized.System.Object'] }))) : mv(shell, names.map((n) => NS + n));
  const modeNum = { Audit: 0, AuditAndNotify: 1, Enforce: 2 };
  const locNum = { Header: 0, Envelope: 1, HeaderOrEnvelope: 2 };
  const mode = r.mode ?? 'Enforce';
  const loc = r.location ?? 'Header';
  const state = r.state ?? 'Enabled';
  return {
    Priority: r.priority ?? 0,
    Name: r.name,
    Identity: r.name,
    State: shell === 'ps51' ? (state === 'Enabled' ? 0 : 1) : state,
    Mode: shell === 'ps51' ? modeNum[mode] : mode,
    Description: `If the message:\r\n\tIs received from 'Outside the organization'\r\nTake the following actions:\r\n\tQuarantine`,
    Conditions: render(conds),
    Exceptions: r.exceptIps?.length ? render(['SenderIpRangesPredicate']) : null,
    Actions: render(acts),
    FromScope: r.fromScope ? (shell === 'ps51' ? { InOrganization: 0, NotInOrganization: 1 }[r.fromScope] : r.fromScope) : null,
    SenderDomainIs: r.senderDomainIs ? mv(shell, r.senderDomainIs) : null,
    SenderAddressLocation: shell === 'ps51' ? locNum[loc] : loc,
    ExceptIfSenderIpRanges: r.exceptIps ? mv(shell, r.exceptIps) : null,
    PrependSubject: r.prependSubject ?? null,
    BlindCopyTo: r.bcc ? mv(shell, r.bcc) : null,
    Quarantine: r.quarantine ?? null,
    SetSCL: r.setScl ?? null,
    RedirectMessageTo: null,
    RejectMessageReasonText: null,
    DeleteMessage: false,
    StopRuleProcessing: false,
    WhenChanged: date(shell),
  };
}
