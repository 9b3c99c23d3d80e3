/**
 * @module cli/commands/list
 * `mailgate list allow|block add|list|remove ENTRY...`: the IP/CIDR and sender-domain allow and
 * block lists. Each entry is parsed (list-entry.ts) as an IP/CIDR or as a domain pattern, with a
 * usage error for anything that is neither (`999.1.1.1` is a bad IP, not a domain). Blocking an
 * accepted domain is refused without `--force`: it would refuse every sender in it, authenticated
 * users included.
 * Touches: the config store (through cli/context).
 */
import type { Command } from 'commander';
import { normalizeDomain } from '../../core/address.ts';
import { normalizeIp } from '../../core/cidr.ts';
import type { Config } from '../../config/index.ts';
import { actor, changedIn, defaultIo, withContext, type CliIo } from '../context.ts';
import { CliError, formatOption, isIpOrCidr, printRows, splitList, type OutputFormat } from '../format.ts';
import { acceptedDomainsBlocked, parseListEntry } from '../list-entry.ts';

type ListName = 'allow' | 'block';
type ListBody = Config['lists']['allow'];

/** Canonical form for comparing entries: IPs normalised, domains lower-case IDNA. */
function canon(entry: string): string {
  if (isIpOrCidr(entry)) {
    const [ip, prefix] = entry.split('/');
    return (normalizeIp(ip ?? '') || entry.toLowerCase()) + (prefix !== undefined ? `/${prefix}` : '');
  }
  return entry.startsWith('*.') ? '*.' + normalizeDomain(entry.slice(2)) : normalizeDomain(entry) || entry.toLowerCase();
}

function fieldFor(entry: string): keyof ListBody {
  return isIpOrCidr(entry) ? 'ips' : 'senderDomains';
}

function addEntries(list: ListBody, entries: string[]): number {
  let added = 0;
  for (const e of entries) {
    const field = fieldFor(e);
    if (list[field].some((x) => canon(x) === canon(e))) continue;
    list[field].push(e);
    added++;
  }
  return added;
}

function removeEntries(list: ListBody, entries: string[], name: ListName): void {
  for (const e of entries) {
    const field = fieldFor(e);
    const i = list[field].findIndex((x) => canon(x) === canon(e));
    if (i < 0) throw new CliError(`the ${name} list does not contain "${e}"`);
    list[field].splice(i, 1);
  }
}

function rowsOf(list: ListBody): Record<string, unknown>[] {
  return [...list.ips.map((entry) => ({ kind: 'ip', entry })), ...list.senderDomains.map((entry) => ({ kind: 'senderDomain', entry }))];
}

function registerOne(parent: Command, name: ListName, io: CliIo): void {
  const cmd = parent.command(name).description(`the ${name} list (IPs/CIDRs and sender domains)`);
  cmd
    .command('add')
    .description(`add IPs, CIDRs or sender domains to the ${name} list`)
    .argument('<entry...>', 'IP, CIDR, domain or *.domain')
    .option('--force', 'block even an accepted domain (refuses every sender in it, authenticated users too)')
    .action(async (entries: string[], opts: { force?: boolean }, c: Command) => {
      const list = splitList(entries).map(parseListEntry);
      await withContext(c, async ({ store, dataDir }) => {
        const v = await store.update(actor(), `list ${name} add ${list.join(' ')}`, (draft) => {
          if (name === 'block') {
            const hits = acceptedDomainsBlocked(draft, list);
            if (hits.length && !opts.force) throw new CliError(`refused: ${hits.join('; ')}. Pass --force to block it anyway`);
            for (const h of hits) io.err.write(`warning: ${h}\n`);
          }
          addEntries(draft.lists[name], list);
        });
        io.out.write(`${name} list updated (${changedIn({ dataDir }, v)})\n`);
      });
    });
  cmd
    .command('list')
    .description(`show the ${name} list`)
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }, c: Command) => {
      await withContext(c, async ({ store }) => {
        const cfg = (await store.current())?.config;
        printRows(cfg ? rowsOf(cfg.lists[name]) : [], ['kind', 'entry'], opts.format, io.out);
      });
    });
  cmd
    .command('remove')
    .description(`remove entries from the ${name} list`)
    .argument('<entry...>', 'IP, CIDR, domain or *.domain')
    .action(async (entries: string[], _opts: unknown, c: Command) => {
      const list = splitList(entries);
      await withContext(c, async ({ store, dataDir }) => {
        const v = await store.update(actor(), `list ${name} remove ${list.join(' ')}`, (draft) => {
          removeEntries(draft.lists[name], list, name);
        });
        io.out.write(`${name} list updated (${changedIn({ dataDir }, v)})\n`);
      });
    });
}

/** Register `list allow|block add|list|remove`. */
export function registerList(program: Command, io: CliIo = defaultIo()): void {
  const list = program.command('list').description('allow and block lists');
  registerOne(list, 'allow', io);
  registerOne(list, 'block', io);
}
