/**
 * @module ops/org
 * The Organization settings (Get-/Set-OrganizationConfig), chiefly RejectDirectSend (5.7.68).
 * Every change is a new configuration version recorded with its actor.
 * Touches: the config store of the context.
 */
import type { Config } from '../config/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { change, current, type Changed } from './model.ts';

export type Organization = Config['organization'];

/** What `org set` may change. */
export interface OrgChange {
  rejectDirectSend?: boolean;
  rejectDirectSendHeaderFrom?: boolean;
  name?: string;
  hostname?: string;
}

/** The organization settings in force. */
export async function showOrg(ctx: OpsContext): Promise<Organization> {
  return { ...(await current(ctx)).organization };
}

/** `k=v …` of the fields a change sets (the default history comment). */
export function describeOrgChange(o: OrgChange): string {
  return Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

/** Change organization settings; refused when it sets nothing. */
export async function setOrg(ctx: OpsContext, set: OrgChange, comment?: string): Promise<Changed> {
  const what = describeOrgChange(set);
  if (!what) throw new OpsError('invalid', 'org set: nothing to change');
  return change(ctx, comment ?? `org set ${what}`, (draft) => {
    Object.assign(draft.organization, Object.fromEntries(Object.entries(set).filter(([, x]) => x !== undefined)));
  });
}
