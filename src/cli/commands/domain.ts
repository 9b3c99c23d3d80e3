/**
 * @module cli/commands/domain
 * `mailgate domain add|list|remove`: accepted domains (New-/Get-/Remove-AcceptedDomain).
 * Touches: the config store (through cli/context).
 */
import type { Command } from 'commander';
import { normalizeDomain } from '../../core/address.ts';
import { actor, changedIn, defaultIo, requireComplete, withContext, type CliIo } from '../context.ts';
import { CliError, enumParser, formatOption, printRows, type OutputFormat } from '../format.ts';

const parseDomainType = enumParser('--type', ['Authoritative', 'InternalRelay'] as const);

function sameDomain(a: string, b: string): boolean {
  return normalizeDomain(a) === normalizeDomain(b);
}

/** Register `domain add|list|remove`. */
export function registerDomain(program: Command, io: CliIo = defaultIo()): void {
  const domain = program.command('domain').description('accepted domains (the domains you receive mail for)');
  domain
    .command('add')
    .description('add an accepted domain (New-AcceptedDomain)')
    .argument('<name>', 'domain name')
    .option('--type <type>', 'Authoritative or InternalRelay', parseDomainType, 'Authoritative')
    .option('--match-subdomains', 'also accept subdomains (needs InternalRelay)', false)
    .option('--comment <text>', 'why (recorded in config history)')
    .action(async (name: string, opts: { type: 'Authoritative' | 'InternalRelay'; matchSubdomains: boolean; comment?: string }, cmd: Command) => {
      await withContext(cmd, ({ store, dataDir }) => {
        const v = store.update(actor(), opts.comment ?? `domain add ${name}`, (draft) => {
          if (draft.acceptedDomains.some((d) => sameDomain(d.domainName, name))) throw new CliError(`accepted domain "${name}" already exists`);
          draft.acceptedDomains.push({ domainName: name, domainType: opts.type, matchSubDomains: opts.matchSubdomains });
        });
        io.out.write(`accepted domain ${name} added (${changedIn({ dataDir }, v)})\n`);
      });
    });
  domain
    .command('list')
    .description('list accepted domains')
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }, cmd: Command) => {
      await withContext(cmd, ({ store }) => {
        const rows = store.current()?.config.acceptedDomains ?? [];
        printRows(rows, ['domainName', 'domainType', 'matchSubDomains'], opts.format, io.out);
      });
    });
  domain
    .command('remove')
    .description('remove an accepted domain')
    .argument('<name>', 'domain name')
    .option('--comment <text>', 'why (recorded in config history)')
    .option('--force', 'remove even the last accepted domain')
    .action(async (name: string, opts: { comment?: string; force?: boolean }, cmd: Command) => {
      await withContext(cmd, ({ store, dataDir }) => {
        const v = store.update(actor(), opts.comment ?? `domain remove ${name}`, (draft) => {
          const i = draft.acceptedDomains.findIndex((d) => sameDomain(d.domainName, name));
          if (i < 0) throw new CliError(`no accepted domain named "${name}"`);
          draft.acceptedDomains.splice(i, 1);
          requireComplete(draft, opts.force);
        });
        io.out.write(`accepted domain ${name} removed (${changedIn({ dataDir }, v)})\n`);
      });
    });
}
