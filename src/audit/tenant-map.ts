/**
 * @module audit/tenant-map
 * One ConvertTo-Json object of each cmdlet → the tenant model (audit/tenant-model). Enum numbers
 * (Windows PowerShell 5.1 writes enums as numbers) are read as Exchange's enum values as far as
 * they are known — the reference does not list them, so a number outside these is not guessed but
 * named in a note (AcceptedDomainType Authoritative 0, ExternalRelay 1, InternalRelay 2;
 * TenantConnectorType OnPremises 1, Partner 2; RuleMode Audit 0, AuditAndNotify 1, Enforce 2;
 * RuleState Enabled 0, Disabled 1; AddressLocation Header 0, Envelope 1, HeaderOrEnvelope 2).
 * Rule conditions and actions come from the Conditions/Actions lists (class names, or serialized
 * objects whose strings name the class) and from the rule's own parameters (PrependSubject,
 * SetSCL …), so either form of the export gives the same rule.
 * Touches: nothing (pure). Reference: exchange-online.md §2, §3.4, §5.5, §8.
 */
import { addressSpace, enumValue, shortClassName, triState, type RuleMode, type SenderAddressLocation, type TenantAcceptedDomain, type TenantDomainType, type TenantInboundConnector, type TenantOrganization, type TenantOutboundConnector, type TenantTransportRule } from './tenant-model.ts';

/** A JSON object as ConvertTo-Json writes it. */
export type Obj = Record<string, unknown>;

/** A property, case-insensitively (PowerShell property names are). */
function prop(o: Obj, key: string): unknown {
  if (key in o) return o[key];
  const k = key.toLowerCase();
  for (const [name, v] of Object.entries(o)) if (name.toLowerCase() === k) return v;
  return undefined;
}

function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

/** A multi-valued property: an array, 5.1's {value, Count}, one string, or null → strings. */
function list(v: unknown): unknown[] {
  if (v === null || v === undefined || v === '') return [];
  if (Array.isArray(v)) return v;
  if (typeof v === 'object' && Array.isArray((v as Obj).value)) return (v as Obj).value as unknown[];
  return [v];
}

function strings(v: unknown): string[] {
  return list(v).map(str).filter((s): s is string => s !== null && s.trim() !== '');
}

/** An IP range entry: text (`192.0.2.0/24`), or a serialized IPRange object. */
function ipRange(v: unknown, notes: string[], where: string): string | undefined {
  if (typeof v === 'string') return v.trim();
  if (v && typeof v === 'object') {
    const o = v as Obj;
    const expr = str(prop(o, 'Expression'));
    if (expr) return expr.trim();
    const lowRaw = prop(o, 'LowerBound');
    const low = str(lowRaw) ?? (lowRaw && typeof lowRaw === 'object' ? str(prop(lowRaw as Obj, 'IPAddressToString')) : null);
    const len = prop(o, 'CIDRLength');
    if (low && typeof len === 'number') return len === 32 || len === 128 ? low : `${low}/${len}`;
  }
  notes.push(`${where}: an IP range entry could not be read (${JSON.stringify(v).slice(0, 80)}); it was left out`);
  return undefined;
}

export function mapAcceptedDomain(o: Obj, notes: string[]): TenantAcceptedDomain {
  const name = (str(prop(o, 'DomainName')) ?? str(prop(o, 'Name')) ?? '').trim().toLowerCase();
  const t = enumValue<TenantDomainType>(prop(o, 'DomainType'), ['Authoritative', 'InternalRelay', 'ExternalRelay'], { 0: 'Authoritative', 1: 'ExternalRelay', 2: 'InternalRelay' });
  if (!t) notes.push(`accepted domain ${name}: DomainType ${JSON.stringify(prop(o, 'DomainType'))} not recognised; read as Authoritative`);
  return { domainName: name, domainType: t ?? 'Authoritative', matchSubDomains: triState(prop(o, 'MatchSubDomains')) ?? false, default: triState(prop(o, 'Default')) ?? false };
}

/** Inbound connector settings mailgate has no equivalent for, with their "not set" values. */
const UNSUPPORTED: readonly [string, (v: unknown) => boolean][] = [
  ['TrustedOrganizations', (v) => list(v).length === 0],
  ['AssociatedAcceptedDomains', (v) => list(v).length === 0],
  ['ClientHostNames', (v) => list(v).length === 0],
  ['EFSkipIPs', (v) => list(v).length === 0],
  ['EFSkipLastIP', (v) => triState(v) !== true],
  ['EFUsers', (v) => list(v).length === 0],
  ['CloudServicesMailEnabled', (v) => triState(v) !== true],
  ['TreatMessagesAsInternal', (v) => triState(v) !== true],
  ['ScanAndDropRecipients', (v) => list(v).length === 0],
];

export function mapInboundConnector(o: Obj, notes: string[]): TenantInboundConnector {
  const name = (str(prop(o, 'Name')) ?? str(prop(o, 'Identity')) ?? '').trim();
  const type = enumValue<'Partner' | 'OnPremises'>(prop(o, 'ConnectorType'), ['Partner', 'OnPremises'], { 1: 'OnPremises', 2: 'Partner' });
  if (!type) notes.push(`inbound connector ${name}: ConnectorType ${JSON.stringify(prop(o, 'ConnectorType'))} not recognised; read as Partner`);
  const domains = list(prop(o, 'SenderDomains')).map((v) => {
    const s = str(v) ?? (v && typeof v === 'object' ? (str(prop(v as Obj, 'Address')) ?? str(prop(v as Obj, 'Domain'))) : null);
    return s === null ? '' : addressSpace(s);
  });
  if (list(prop(o, 'SenderDomains')).some((v) => typeof v === 'string' && /^[A-Za-z]+:.*;\d+$/.test(v.trim()))) notes.push('SenderDomains address spaces like smtp:*;1 read as their domain (*)');
  const ips = list(prop(o, 'SenderIPAddresses')).map((v) => ipRange(v, notes, `inbound connector ${name}`)).filter((s): s is string => Boolean(s));
  const certRaw = prop(o, 'TlsSenderCertificateName');
  const cert = str(certRaw) ?? (certRaw && typeof certRaw === 'object' ? str(prop(certRaw as Obj, 'CertificateName')) ?? str(prop(certRaw as Obj, 'Name')) : null);
  const unsupported = UNSUPPORTED.filter(([k, isDefault]) => k in o && !isDefault(prop(o, k))).map(([k]) => `${k}=${JSON.stringify(prop(o, k))}`);
  return {
    name,
    connectorType: type ?? 'Partner',
    enabled: triState(prop(o, 'Enabled')) ?? true,
    senderIPAddresses: ips,
    senderDomains: domains.filter(Boolean),
    tlsSenderCertificateName: cert && cert.trim() ? cert.trim().toLowerCase() : null,
    requireTls: triState(prop(o, 'RequireTls')),
    restrictDomainsToIPAddresses: triState(prop(o, 'RestrictDomainsToIPAddresses')) ?? false,
    restrictDomainsToCertificate: triState(prop(o, 'RestrictDomainsToCertificate')) ?? false,
    comment: str(prop(o, 'Comment')) ?? '',
    unsupported,
  };
}

export function mapOutboundConnector(o: Obj): TenantOutboundConnector {
  return {
    name: (str(prop(o, 'Name')) ?? str(prop(o, 'Identity')) ?? '').trim(),
    enabled: triState(prop(o, 'Enabled')) ?? true,
    connectorType: str(prop(o, 'ConnectorType')) ?? '',
    smartHosts: strings(prop(o, 'SmartHosts')),
    recipientDomains: strings(prop(o, 'RecipientDomains')).map(addressSpace),
    tlsSettings: str(prop(o, 'TlsSettings')),
  };
}

export function mapOrganization(o: Obj, notes: string[]): TenantOrganization {
  const rds = triState(prop(o, 'RejectDirectSend'));
  if (rds === null) notes.push('RejectDirectSend is null or absent: not set (Exchange\'s default, $false)');
  return { name: str(prop(o, 'Name')) ?? str(prop(o, 'DisplayName')), rejectDirectSend: rds };
}

/** Class names in a Conditions/Actions value: strings, or strings inside serialized objects. */
function classNames(v: unknown, suffix: RegExp): string[] {
  const out: string[] = [];
  const walk = (x: unknown, depth: number): void => {
    if (depth > 6) return;
    if (typeof x === 'string') {
      const s = shortClassName(x);
      if (suffix.test(s)) out.push(s);
    } else if (Array.isArray(x)) x.forEach((y) => walk(y, depth + 1));
    else if (x && typeof x === 'object') Object.values(x).forEach((y) => walk(y, depth + 1));
  };
  walk(v, 0);
  return out;
}

/** Parameters that imply an action (the form a rule is shown in when Actions holds objects). */
const ACTION_PARAMS: readonly [string, string][] = [
  ['PrependSubject', 'PrependSubjectAction'],
  ['BlindCopyTo', 'BlindCopyToAction'],
  ['Quarantine', 'QuarantineAction'],
  ['RedirectMessageTo', 'RedirectMessageAction'],
  ['RejectMessageReasonText', 'RejectMessageAction'],
  ['RejectMessageEnhancedStatusCode', 'RejectMessageAction'],
  ['DeleteMessage', 'DeleteMessageAction'],
  ['SetSCL', 'SetSCLAction'],
  ['SetHeaderName', 'SetHeaderAction'],
  ['CopyTo', 'CopyToAction'],
  ['AddToRecipients', 'AddToRecipientAction'],
  ['ModerateMessageByUser', 'ModerateMessageByUserAction'],
  ['GenerateIncidentReport', 'GenerateIncidentReportAction'],
  ['GenerateNotification', 'GenerateNotificationAction'],
  ['StopRuleProcessing', 'StopRuleProcessingAction'],
];

function isSet(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

export function mapTransportRule(o: Obj, notes: string[]): TenantTransportRule {
  const name = (str(prop(o, 'Name')) ?? str(prop(o, 'Identity')) ?? '').trim();
  const mode = enumValue<RuleMode>(prop(o, 'Mode'), ['Enforce', 'Audit', 'AuditAndNotify'], { 0: 'Audit', 1: 'AuditAndNotify', 2: 'Enforce' });
  if (!mode) notes.push(`transport rule ${name}: Mode ${JSON.stringify(prop(o, 'Mode'))} not recognised; read as Enforce`);
  const state = enumValue<'Enabled' | 'Disabled'>(prop(o, 'State'), ['Enabled', 'Disabled'], { 0: 'Enabled', 1: 'Disabled' });
  const loc = enumValue<SenderAddressLocation>(prop(o, 'SenderAddressLocation'), ['Header', 'Envelope', 'HeaderOrEnvelope'], { 0: 'Header', 1: 'Envelope', 2: 'HeaderOrEnvelope' });
  for (const [k, v] of [['State', state], ['SenderAddressLocation', loc]] as const) {
    const raw = prop(o, k);
    if (v === undefined && raw !== undefined && raw !== null) notes.push(`transport rule ${name}: ${k} ${JSON.stringify(raw)} not recognised; read as ${k === 'State' ? 'Enabled' : 'Header'}`);
  }
  const actions = new Set(classNames(prop(o, 'Actions'), /Action$/));
  for (const [p, a] of ACTION_PARAMS) if (isSet(prop(o, p))) actions.add(a);
  const scl = prop(o, 'SetSCL');
  const sclNum = typeof scl === 'number' ? scl : typeof scl === 'string' && /^-?\d+$/.test(scl.trim()) ? Number(scl) : null;
  const fromScope = enumValue<'InOrganization' | 'NotInOrganization'>(prop(o, 'FromScope'), ['InOrganization', 'NotInOrganization'], { 0: 'InOrganization', 1: 'NotInOrganization' });
  const priority = prop(o, 'Priority');
  return {
    name,
    priority: typeof priority === 'number' ? priority : null,
    mode: mode ?? 'Enforce',
    enabled: state ? state === 'Enabled' : true,
    conditions: [...new Set(classNames(prop(o, 'Conditions'), /Predicate$/))],
    exceptions: [...new Set(classNames(prop(o, 'Exceptions'), /Predicate$/))],
    actions: [...actions],
    fromScope: fromScope ?? null,
    senderDomainIs: strings(prop(o, 'SenderDomainIs')).map((d) => d.toLowerCase()),
    senderAddressLocation: loc ?? 'Header',
    senderIpRanges: list(prop(o, 'SenderIpRanges')).map((v) => ipRange(v, notes, `transport rule ${name}`)).filter((s): s is string => Boolean(s)),
    exceptIfSenderIpRanges: list(prop(o, 'ExceptIfSenderIpRanges')).map((v) => ipRange(v, notes, `transport rule ${name}`)).filter((s): s is string => Boolean(s)),
    setScl: sclNum,
    prependSubject: str(prop(o, 'PrependSubject')),
    blindCopyTo: strings(prop(o, 'BlindCopyTo')),
    quarantine: triState(prop(o, 'Quarantine')) ?? false,
    redirectMessageTo: strings(prop(o, 'RedirectMessageTo')),
    rejectMessageReasonText: str(prop(o, 'RejectMessageReasonText')),
    deleteMessage: triState(prop(o, 'DeleteMessage')) ?? false,
    stopRuleProcessing: triState(prop(o, 'StopRuleProcessing')) ?? false,
    description: str(prop(o, 'Description')) ?? '',
  };
}
