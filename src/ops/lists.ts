/**
 * @module ops/lists
 * The IP/CIDR and sender-domain allow and block lists: show, add, remove. Entries are parsed
 * (ops/list-entry) as an IP/CIDR or a domain pattern and sorted into `ips` or `senderDomains`;
 * duplicates (after IP and IDNA normalisation) are skipped; removing an absent entry is refused.
 * Blocking an accepted domain is refused without `force`: it would refuse every sender in it,
 * authenticated users included; with `force` the same notes come back as warnings.
 * Touches: the config store of the context.
 */
import { isIpOrCidr } from '../core/cidr.ts';
import type { Config } from '../config/index.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { acceptedDomainsBlocked, canonicalEntry, parseListEntry } from './list-entry.ts';
import { change, current, type Changed } from './model.ts';
import type { ReplyText } from './policy-replay.ts';

export const LIST_NAMES = ['allow', 'block'] as const;
export type ListName = (typeof LIST_NAMES)[number];
type ListBody = Config['lists']['allow'];

/** One entry of a list as shown: which field holds it, and the entry. */
export type ListRow = {
  kind: 'ip' | 'senderDomain';
  entry: string;
};

const keyOnly: ReplyText = (key) => key;

function fieldFor(entry: string): keyof ListBody {
  return isIpOrCidr(entry) ? 'ips' : 'senderDomains';
}

function rowsOf(list: ListBody): ListRow[] {
  return [...list.ips.map((entry) => ({ kind: 'ip' as const, entry })), ...list.senderDomains.map((entry) => ({ kind: 'senderDomain' as const, entry }))];
}

/** The entries of list `name`, IPs first. */
export async function showList(ctx: OpsContext, name: ListName): Promise<ListRow[]> {
  return rowsOf((await current(ctx)).lists[name]);
}

/**
 * Add `entries` to list `name` (each parsed; an invalid one refuses the whole change). Returns the
 * version and, for a forced block of an accepted domain, the warnings.
 */
export async function addListEntries(
  ctx: OpsContext,
  name: ListName,
  entries: readonly string[],
  o: { force?: boolean; comment?: string; replyText?: ReplyText } = {},
): Promise<Changed & { added: number; warnings: string[] }> {
  const list = entries.map(parseListEntry);
  if (list.length === 0) throw new OpsError('invalid', 'no entries given');
  let warnings: string[] = [];
  let added = 0;
  const r = (await change(ctx, o.comment ?? `list ${name} add ${list.join(' ')}`, (draft) => {
    if (name === 'block') {
      const hits = acceptedDomainsBlocked(draft, list, o.replyText ?? keyOnly);
      if (hits.length && !o.force) throw new OpsError('invalid', `refused: ${hits.join('; ')}. Pass --force to block it anyway`);
      warnings = hits;
    }
    const body = draft.lists[name];
    for (const e of list) {
      const field = fieldFor(e);
      if (body[field].some((x) => canonicalEntry(x) === canonicalEntry(e))) continue;
      body[field].push(e);
      added++;
    }
  }));
  return { ...r, added, warnings };
}

/** Remove `entries` from list `name`; an entry it does not hold refuses the whole change. */
export async function removeListEntries(ctx: OpsContext, name: ListName, entries: readonly string[], o: { comment?: string } = {}): Promise<Changed> {
  const list = entries.map((e) => e.trim()).filter((e) => e !== '');
  if (list.length === 0) throw new OpsError('invalid', 'no entries given');
  return (await change(ctx, o.comment ?? `list ${name} remove ${list.join(' ')}`, (draft) => {
    const body = draft.lists[name];
    for (const e of list) {
      const field = fieldFor(e);
      const i = body[field].findIndex((x) => canonicalEntry(x) === canonicalEntry(e));
      if (i < 0) throw new OpsError('not-found', `the ${name} list does not contain "${e}"`);
      body[field].splice(i, 1);
    }
  }));
}
