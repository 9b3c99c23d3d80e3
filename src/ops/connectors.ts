/**
 * @module ops/connectors
 * Inbound connectors (New-/Set-/Get-/Remove-InboundConnector), with Exchange's field names: a
 * change replaces a list (`senderIPAddresses`) or edits it (`addSenderIPAddresses`,
 * `removeSenderIPAddresses`; removing an absent entry is refused). Every change is a config version.
 * Touches: the config store of the context.
 */
import type { InboundConnector } from '../config/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { change, current, indexOfNamed, removeNamed, requireNamed, type Changed } from './model.ts';

export type ConnectorType = InboundConnector['connectorType'];
export const CONNECTOR_TYPES: readonly ConnectorType[] = ['Partner', 'OnPremises'];
const NOUN = 'inbound connector';

/** What add and set may change (add needs connectorType). */
export interface ConnectorChange {
  connectorType?: ConnectorType;
  senderIPAddresses?: string[];
  addSenderIPAddresses?: string[];
  removeSenderIPAddresses?: string[];
  senderDomains?: string[];
  addSenderDomains?: string[];
  removeSenderDomains?: string[];
  /** The empty string removes it. */
  tlsSenderCertificateName?: string;
  requireTls?: boolean;
  restrictDomainsToIPAddresses?: boolean;
  restrictDomainsToCertificate?: boolean;
  enabled?: boolean;
  comment?: string;
}

function withoutAll(list: string[], remove: string[], what: string): string[] {
  for (const r of remove) {
    if (!list.some((x) => x.toLowerCase() === r.toLowerCase())) throw new OpsError('invalid', `${what} does not contain "${r}"`);
  }
  const drop = new Set(remove.map((r) => r.toLowerCase()));
  return list.filter((x) => !drop.has(x.toLowerCase()));
}

function withAdded(list: string[], add: string[]): string[] {
  const out = [...list];
  for (const a of add) if (!out.some((x) => x.toLowerCase() === a.toLowerCase())) out.push(a);
  return out;
}

/** Apply a change to a connector (a fresh one for add, a draft copy for set). */
function applyChange(c: InboundConnector, o: ConnectorChange): void {
  if (o.connectorType !== undefined) c.connectorType = o.connectorType;
  if (o.senderIPAddresses) c.senderIPAddresses = [...o.senderIPAddresses];
  if (o.addSenderIPAddresses) c.senderIPAddresses = withAdded(c.senderIPAddresses, o.addSenderIPAddresses);
  if (o.removeSenderIPAddresses) c.senderIPAddresses = withoutAll(c.senderIPAddresses, o.removeSenderIPAddresses, 'senderIPAddresses');
  if (o.senderDomains) c.senderDomains = [...o.senderDomains];
  if (o.addSenderDomains) c.senderDomains = withAdded(c.senderDomains, o.addSenderDomains);
  if (o.removeSenderDomains) c.senderDomains = withoutAll(c.senderDomains, o.removeSenderDomains, 'senderDomains');
  if (o.tlsSenderCertificateName !== undefined) {
    if (o.tlsSenderCertificateName === '') delete c.tlsSenderCertificateName;
    else c.tlsSenderCertificateName = o.tlsSenderCertificateName;
  }
  if (o.requireTls !== undefined) c.requireTls = o.requireTls;
  if (o.restrictDomainsToIPAddresses !== undefined) c.restrictDomainsToIPAddresses = o.restrictDomainsToIPAddresses;
  if (o.restrictDomainsToCertificate !== undefined) c.restrictDomainsToCertificate = o.restrictDomainsToCertificate;
  if (o.enabled !== undefined) c.enabled = o.enabled;
  if (o.comment !== undefined) c.comment = o.comment;
}

function newConnector(name: string, type: ConnectorType): InboundConnector {
  return {
    name,
    connectorType: type,
    senderIPAddresses: [],
    senderDomains: ['*'],
    requireTls: false,
    restrictDomainsToIPAddresses: false,
    restrictDomainsToCertificate: false,
    enabled: true,
    comment: '',
  };
}

/** Every inbound connector. */
export async function listConnectors(ctx: OpsContext): Promise<InboundConnector[]> {
  return (await current(ctx)).inboundConnectors.map((c) => ({ ...c }));
}

/** One inbound connector by name. */
export async function showConnector(ctx: OpsContext, name: string): Promise<InboundConnector> {
  return { ...requireNamed((await current(ctx)).inboundConnectors, name, NOUN) };
}

/** Add connector `name` of `connectorType`; refused when the name is taken. */
export async function addConnector(ctx: OpsContext, name: string, input: ConnectorChange & { connectorType: ConnectorType }): Promise<Changed> {
  return change(ctx, `connector add ${name}`, (draft) => {
    if (indexOfNamed(draft.inboundConnectors, name) >= 0) throw new OpsError('conflict', `${NOUN} "${name}" already exists`);
    const c = newConnector(name, input.connectorType);
    applyChange(c, input);
    draft.inboundConnectors.push(c);
  });
}

/** Change connector `name`. */
export async function setConnector(ctx: OpsContext, name: string, input: ConnectorChange): Promise<Changed> {
  return change(ctx, `connector set ${name}`, (draft) => applyChange(requireNamed(draft.inboundConnectors, name, NOUN), input));
}

/** Remove connector `name`. */
export async function removeConnector(ctx: OpsContext, name: string): Promise<Changed> {
  return removeNamed(ctx, name, { noun: NOUN, verb: 'connector', list: (c) => c.inboundConnectors });
}
