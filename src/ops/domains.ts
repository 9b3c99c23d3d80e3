/**
 * @module ops/domains
 * Accepted domains (New-/Get-/Remove-AcceptedDomain): the domains the organization receives mail
 * for; Direct Send is judged against them. Names compare after IDNA and case normalisation.
 * Touches: the config store of the context.
 */
import { normalizeDomain } from '../core/address.ts';
import type { Config } from '../config/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { change, current, requireComplete, type Changed } from './model.ts';

export type AcceptedDomain = Config['acceptedDomains'][number];
export type DomainType = AcceptedDomain['domainType'];
export const DOMAIN_TYPES: readonly DomainType[] = ['Authoritative', 'InternalRelay'];

function sameDomain(a: string, b: string): boolean {
  return normalizeDomain(a) === normalizeDomain(b);
}

/** Every accepted domain. */
export async function listDomains(ctx: OpsContext): Promise<AcceptedDomain[]> {
  return (await current(ctx)).acceptedDomains.map((d) => ({ ...d }));
}

/** Add accepted domain `domainName`; refused when it exists. */
export async function addDomain(
  ctx: OpsContext,
  input: { domainName: string; domainType?: DomainType; matchSubDomains?: boolean; comment?: string },
): Promise<Changed> {
  const name = input.domainName;
  return change(ctx, input.comment ?? `domain add ${name}`, (draft) => {
    if (draft.acceptedDomains.some((d) => sameDomain(d.domainName, name))) throw new OpsError('conflict', `accepted domain "${name}" already exists`);
    draft.acceptedDomains.push({ domainName: name, domainType: input.domainType ?? 'Authoritative', matchSubDomains: input.matchSubDomains ?? false });
  });
}

/** Remove accepted domain `name`; the last one only with `force`. */
export async function removeDomain(ctx: OpsContext, name: string, opts: { comment?: string; force?: boolean } = {}): Promise<Changed> {
  return change(ctx, opts.comment ?? `domain remove ${name}`, (draft) => {
    const i = draft.acceptedDomains.findIndex((d) => sameDomain(d.domainName, name));
    if (i < 0) throw new OpsError('not-found', `no accepted domain named "${name}"`);
    draft.acceptedDomains.splice(i, 1);
    requireComplete(draft, opts.force);
  });
}
