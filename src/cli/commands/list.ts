/**
 * @module cli/commands/list
 * `mailgate list allow|block add|list|remove ENTRY...`: the IP/CIDR and sender-domain allow and
 * block lists. An entry that is neither an IP/CIDR nor a domain is a usage error (`999.1.1.1` is a
 * bad IP, not a domain). Blocking an accepted domain is refused without `--force`. The logic is
 * ops/lists'; this file maps arguments and prints.
 * Touches: the config store (through ops/lists).
 */
import type { Command } from 'commander';
import { addListEntries, removeListEntries, showList, type ListName } from '../../ops/lists.ts';
import { parseListEntry } from '../../ops/list-entry.ts';
import { formatReply } from '../../smtp/replies.ts';
import { changedIn, defaultIo, withOps, type CliIo } from '../context.ts';
import { formatOption, printRows, splitList, type OutputFormat } from '../format.ts';
import { flagsChecked } from '../ops-context.ts';

function registerOne(parent: Command, name: ListName, io: CliIo): void {
  const cmd = parent.command(name).description(`the ${name} list (IPs/CIDRs and sender domains)`);
  cmd
    .command('add')
    .description(`add IPs, CIDRs or sender domains to the ${name} list`)
    .argument('<entry...>', 'IP, CIDR, domain or *.domain')
    .option('--force', 'block even an accepted domain (refuses every sender in it, authenticated users too)')
    .action(async (entries: string[], opts: { force?: boolean }, c: Command) => {
      const list = await flagsChecked(() => splitList(entries).map(parseListEntry));
      await withOps(c, async (ctx) => {
        const r = await addListEntries(ctx, name, list, { force: opts.force, replyText: (key, vars) => formatReply(key, vars) });
        for (const w of r.warnings) io.err.write(`warning: ${w}\n`);
        io.out.write(`${name} list updated (${changedIn(ctx, r.version)})\n`);
      });
    });
  cmd
    .command('list')
    .description(`show the ${name} list`)
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }, c: Command) => {
      await withOps(c, async (ctx) => printRows(await showList(ctx, name), ['kind', 'entry'], opts.format, io.out));
    });
  cmd
    .command('remove')
    .description(`remove entries from the ${name} list`)
    .argument('<entry...>', 'IP, CIDR, domain or *.domain')
    .action(async (entries: string[], _opts: unknown, c: Command) => {
      await withOps(c, async (ctx) => {
        const { version } = await removeListEntries(ctx, name, splitList(entries));
        io.out.write(`${name} list updated (${changedIn(ctx, version)})\n`);
      });
    });
}

/** Register `list allow|block add|list|remove`. */
export function registerList(program: Command, io: CliIo = defaultIo()): void {
  const list = program.command('list').description('allow and block lists');
  registerOne(list, 'allow', io);
  registerOne(list, 'block', io);
}
