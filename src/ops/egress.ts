/**
 * @module ops/egress
 * The egress policy (the `egress:` block: internal ranges, the relay's addresses, named exceptions
 * with expiry, blocked ports, log, reject or drop): shown with each exception's state on a day,
 * changed field by field (a list is replaced, or edited with add/remove; removing an absent entry
 * is refused), exceptions saved or removed by name, and rendered for a firewall by egress/ (pure;
 * the output names the config version it came from). Every change is a config version.
 * Touches: the config store of the context.
 */
import { isIpOrCidr } from '../core/cidr.ts';
import type { Egress, EgressException } from '../config/index.ts';
import { EGRESS_FORMATS, renderEgress, type EgressFormat } from '../egress/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { change, indexOfNamed, removeNamed, type Changed } from './model.ts';

export { EGRESS_FORMATS, type EgressFormat };
export const EGRESS_ACTIONS: readonly Egress['action'][] = ['reject', 'drop'];

/** An exception as shown: `state` is `expired` after its last day, else `active`. */
export type EgressExceptionRow = { name: string; addresses: string[]; comment: string; expires: string; state: 'active' | 'expired' };
export type EgressView = Omit<Egress, 'exceptions'> & { version: number; exceptions: EgressExceptionRow[] };

/** What `setEgress` may change: a list field replaces the list; add/remove edit it. */
export interface EgressChange {
  internalRanges?: string[];
  addInternalRanges?: string[];
  removeInternalRanges?: string[];
  relayAddresses?: string[];
  addRelayAddresses?: string[];
  removeRelayAddresses?: string[];
  blockedPorts?: number[];
  log?: boolean;
  action?: Egress['action'];
  insideInterface?: string;
  outsideInterface?: string;
}

const today = (): string => new Date().toISOString().slice(0, 10);

/** A day `YYYY-MM-DD` that exists, or an OpsError (`invalid`). */
export function parseEgressDate(v: string): string {
  const t = Date.parse(`${v}T00:00:00Z`);
  // Date.parse takes 2099-02-30 (as 2 March): the day must come back unchanged.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== v) throw new OpsError('invalid', `expected a date YYYY-MM-DD, got "${v}"`);
  return v;
}

function requireIps(what: string, entries: readonly string[]): string[] {
  for (const e of entries) if (!isIpOrCidr(e)) throw new OpsError('invalid', `${what}: "${e}" is not an IP address or CIDR`);
  return [...entries];
}

/** Replace, add to or remove from an address list (values checked as IPs/CIDRs). */
function editList(what: string, list: string[], replace?: string[], add?: string[], remove?: string[]): string[] {
  let out = replace ? requireIps(what, replace) : [...list];
  for (const a of add ? requireIps(what, add) : []) if (!out.includes(a)) out.push(a);
  const gone = new Set(remove ?? []);
  for (const r of gone) if (!out.includes(r)) throw new OpsError('invalid', `${r} is not in the list`);
  out = out.filter((x) => !gone.has(x));
  return out;
}

async function current(ctx: OpsContext): Promise<{ version: number; egress: Egress }> {
  const cur = await ctx.store.current();
  if (!cur) throw new OpsError('unavailable', 'no configuration in force');
  return { version: cur.version, egress: cur.config.egress };
}

/** The policy in force with its version, each exception's state on `day` (default today, UTC). */
export async function showEgress(ctx: OpsContext, day = today()): Promise<EgressView> {
  const { version, egress } = await current(ctx);
  const { exceptions, ...rest } = egress;
  const rows = exceptions.map((x) => ({ name: x.name, addresses: [...x.addresses], comment: x.comment, expires: x.expires ?? '', state: x.expires !== undefined && x.expires < day ? ('expired' as const) : ('active' as const) }));
  return { version, ...rest, internalRanges: [...rest.internalRanges], relayAddresses: [...rest.relayAddresses], blockedPorts: [...rest.blockedPorts], exceptions: rows };
}

/** Change the policy; a change naming nothing is refused. */
export async function setEgress(ctx: OpsContext, o: EgressChange, comment?: string): Promise<Changed> {
  const what = Object.entries(o).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (!what.length) throw new OpsError('invalid', 'egress set: nothing to change');
  const ports = o.blockedPorts === undefined ? undefined : [...new Set(o.blockedPorts)];
  if (ports?.length === 0) throw new OpsError('invalid', 'blockedPorts: give at least one port');
  return (await change(ctx, comment ?? `egress set ${what.join(' ')}`, (draft) => {
    const e = draft.egress;
    e.internalRanges = editList('internalRanges', e.internalRanges, o.internalRanges, o.addInternalRanges, o.removeInternalRanges);
    e.relayAddresses = editList('relayAddresses', e.relayAddresses, o.relayAddresses, o.addRelayAddresses, o.removeRelayAddresses);
    if (ports) e.blockedPorts = ports;
    if (o.log !== undefined) e.log = o.log;
    if (o.action !== undefined) e.action = o.action;
    if (o.insideInterface !== undefined) e.insideInterface = o.insideInterface;
    if (o.outsideInterface !== undefined) e.outsideInterface = o.outsideInterface;
  }));
}

/** Add exception `name`, or replace the one of that name. */
export async function saveEgressException(ctx: OpsContext, name: string, o: { addresses: string[]; comment?: string; expires?: string }): Promise<Changed> {
  const addresses = requireIps('addresses', o.addresses);
  if (addresses.length === 0) throw new OpsError('invalid', 'addresses: give at least one IP or CIDR');
  const expires = o.expires === undefined ? undefined : parseEgressDate(o.expires);
  return (await change(ctx, `egress exception add ${name}`, (draft) => {
    const list = draft.egress.exceptions;
    const item: EgressException = { name, addresses, comment: o.comment ?? '', ...(expires ? { expires } : {}) };
    const i = indexOfNamed(list, name);
    if (i >= 0) list[i] = item;
    else list.push(item);
  }));
}

/** Remove exception `name`. */
export async function removeEgressException(ctx: OpsContext, name: string): Promise<Changed> {
  return removeNamed(ctx, name, { noun: 'egress exception', verb: 'egress exception', list: (c) => c.egress.exceptions });
}

/** The policy in force rendered for `format`, exceptions judged on `asOf` (default today, UTC). */
export async function renderEgressPolicy(ctx: OpsContext, format: EgressFormat, asOf?: string): Promise<{ format: EgressFormat; version: number; asOf: string; text: string }> {
  const day = asOf === undefined ? today() : parseEgressDate(asOf);
  const { version, egress } = await current(ctx);
  return { format, version, asOf: day, text: renderEgress(format, egress, { version, asOf: day }) };
}
