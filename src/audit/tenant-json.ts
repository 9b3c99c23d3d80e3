/**
 * @module audit/tenant-json
 * Reads the tenant's own configuration as PowerShell saves it with `ConvertTo-Json -Depth 5`
 * (reference §5.5): `Get-AcceptedDomain`, `Get-InboundConnector`, `Get-OutboundConnector`,
 * `Get-OrganizationConfig`, `Get-TransportRule`. Handles what real files hold: a single object
 * (one item in the pipeline) or an array; UTF-16 LE with BOM (Windows PowerShell 5.1 `Out-File`),
 * UTF-8 with or without BOM; 5.1's `{"value":[…],"Count":n}` wrapping of arrays; enums written as
 * numbers (5.1) or names (7, and the REST module); null tri-state fields; `SenderDomains` like
 * `smtp:*;1`; IP ranges as text or as serialized IPRange objects; rule Conditions/Actions as .NET
 * class names or serialized objects. The cmdlet is recognised from each object's keys; a file of
 * none of them is refused naming the closest cmdlet and the keys it lacks.
 * Touches: the file (read only).
 */
import { readFileSync } from 'node:fs';
import { sniffEncoding } from './decode.ts';
import { mapAcceptedDomain, mapInboundConnector, mapOrganization, mapOutboundConnector, mapTransportRule, type Obj } from './tenant-map.ts';
import type { TenantConfig } from './tenant-model.ts';

export type TenantKind = 'accepted-domain' | 'inbound-connector' | 'outbound-connector' | 'organization' | 'transport-rule';

/** The cmdlet of each kind and the keys that identify its objects. */
export const TENANT_KINDS: Readonly<Record<TenantKind, { cmdlet: string; keys: readonly string[] }>> = {
  'accepted-domain': { cmdlet: 'Get-AcceptedDomain', keys: ['DomainName', 'DomainType'] },
  'inbound-connector': { cmdlet: 'Get-InboundConnector', keys: ['ConnectorType', 'SenderDomains', 'RestrictDomainsToIPAddresses'] },
  'outbound-connector': { cmdlet: 'Get-OutboundConnector', keys: ['ConnectorType', 'SmartHosts', 'TlsSettings'] },
  organization: { cmdlet: 'Get-OrganizationConfig', keys: ['RejectDirectSend', 'DisplayName'] },
  'transport-rule': { cmdlet: 'Get-TransportRule', keys: ['Mode', 'Conditions', 'Actions', 'Priority'] },
};

/** Thrown when a file is not one of the five cmdlets' JSON. */
export class TenantConfigRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TenantConfigRefused';
  }
}

export interface TenantFileSummary {
  file: string;
  kind: TenantKind;
  cmdlet: string;
  encoding: string;
  objects: number;
  notes: string[];
}

/** 5.1's `{"value":[…],"Count":n}` (an array that went through the pipeline) → the array. */
export function unwrapArray(v: unknown): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v);
    const o = v as Obj;
    if (keys.length === 2 && Array.isArray(o.value) && 'Count' in o) return o.value;
  }
  return v;
}

/** The kind of one object, or the closest kind and the keys it lacks. */
export function kindOf(o: Obj): { kind: TenantKind } | { closest: TenantKind; missing: string[] } {
  const has = (k: string): boolean => k in o;
  if (has('DomainName') && has('DomainType')) return { kind: 'accepted-domain' };
  if (has('ConnectorType') && (has('SmartHosts') || has('TlsSettings') || has('RecipientDomains'))) return { kind: 'outbound-connector' };
  if (has('ConnectorType') && (has('SenderDomains') || has('SenderIPAddresses'))) return { kind: 'inbound-connector' };
  if ((has('Conditions') || has('Actions')) && (has('Mode') || has('Priority') || has('State'))) return { kind: 'transport-rule' };
  if (has('RejectDirectSend') || (has('DisplayName') && has('OAuth2ClientProfileEnabled'))) return { kind: 'organization' };
  let best: { closest: TenantKind; missing: string[] } = { closest: 'inbound-connector', missing: [...TENANT_KINDS['inbound-connector'].keys] };
  for (const [kind, d] of Object.entries(TENANT_KINDS) as [TenantKind, (typeof TENANT_KINDS)[TenantKind]][]) {
    const missing = d.keys.filter((k) => !has(k));
    if (missing.length < best.missing.length) best = { closest: kind, missing };
  }
  return best;
}

/** Decode a file as PowerShell writes it (BOM or UTF-16 pattern sniffed) and parse its JSON. */
export function readJsonFile(file: string): { value: unknown; encoding: string } {
  const bytes = readFileSync(file);
  let sniffed;
  try {
    sniffed = sniffEncoding(bytes.subarray(0, 4096));
  } catch (e) {
    throw new TenantConfigRefused(`${file}: ${(e as Error).message}`);
  }
  let text: string;
  try {
    text = new TextDecoder(sniffed.encoding, { fatal: true, ignoreBOM: true }).decode(bytes.subarray(sniffed.bom));
  } catch {
    throw new TenantConfigRefused(`${file}: not valid ${sniffed.encoding.toUpperCase()} (${sniffed.how})`);
  }
  try {
    return { value: JSON.parse(text.replace(/^\uFEFF/, '')) as unknown, encoding: sniffed.how };
  } catch (e) {
    throw new TenantConfigRefused(`${file}: not JSON (${(e as Error).message}); save the output with ConvertTo-Json -Depth 5`);
  }
}

/** Read one file into `into` (the kinds it holds replace what was there). */
export function readTenantFile(file: string, into: TenantConfig): TenantFileSummary {
  const { value, encoding } = readJsonFile(file);
  const top = unwrapArray(value);
  const items = (Array.isArray(top) ? top : [top]).map(unwrapArray);
  if (items.length === 0) throw new TenantConfigRefused(`${file}: an empty JSON array: nothing to import (a cmdlet that returned nothing?)`);
  const objs: Obj[] = [];
  let kind: TenantKind | undefined;
  for (const [i, it] of items.entries()) {
    if (!it || typeof it !== 'object' || Array.isArray(it)) throw new TenantConfigRefused(`${file}: item ${i + 1} is not a JSON object`);
    const k = kindOf(it as Obj);
    if (!('kind' in k)) {
      const d = TENANT_KINDS[k.closest];
      throw new TenantConfigRefused(`${file}: item ${i + 1} is none of Get-AcceptedDomain, Get-InboundConnector, Get-OutboundConnector, Get-OrganizationConfig, Get-TransportRule; closest is ${d.cmdlet}, which also has ${k.missing.join(', ')}`);
    }
    if (kind && k.kind !== kind) throw new TenantConfigRefused(`${file}: item ${i + 1} is ${TENANT_KINDS[k.kind].cmdlet} output but item 1 is ${TENANT_KINDS[kind].cmdlet}: save each cmdlet to its own file`);
    kind = k.kind;
    objs.push(it as Obj);
  }
  const notes: string[] = [];
  const k = kind as TenantKind;
  if (k === 'accepted-domain') into.acceptedDomains = objs.map((o) => mapAcceptedDomain(o, notes));
  else if (k === 'inbound-connector') into.inboundConnectors = objs.map((o) => mapInboundConnector(o, notes));
  else if (k === 'outbound-connector') into.outboundConnectors = objs.map((o) => mapOutboundConnector(o));
  else if (k === 'transport-rule') into.transportRules = objs.map((o) => mapTransportRule(o, notes));
  else {
    if (objs.length > 1) notes.push(`${objs.length} organization objects: the first is used`);
    into.organization = mapOrganization(objs[0] as Obj, notes);
  }
  return { file, kind: k, cmdlet: TENANT_KINDS[k].cmdlet, encoding, objects: objs.length, notes: [...new Set(notes)] };
}
