/**
 * @module cli/commands/domain
 * `mailgate domain add|list|remove`: accepted domains (New-/Get-/Remove-AcceptedDomain).
 * The logic is ops/domains'; this file parses flags and prints.
 * Touches: the config store (through ops/domains).
 */
import type { Command } from 'commander';
import { addDomain, DOMAIN_TYPES, listDomains, removeDomain, type DomainType } from '../../ops/domains.ts';
import { changedIn, defaultIo, withOps, type CliIo } from '../context.ts';
import { enumParser, formatOption, printRows, type OutputFormat } from '../format.ts';

const parseDomainType = enumParser('--type', DOMAIN_TYPES);

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
    .action(async (name: string, opts: { type: DomainType; matchSubdomains: boolean; comment?: string }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const { version } = await addDomain(ctx, { domainName: name, domainType: opts.type, matchSubDomains: opts.matchSubdomains, ...(opts.comment !== undefined ? { comment: opts.comment } : {}) });
        io.out.write(`accepted domain ${name} added (${changedIn(ctx, version)})\n`);
      });
    });
  domain
    .command('list')
    .description('list accepted domains')
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        printRows(await listDomains(ctx), ['domainName', 'domainType', 'matchSubDomains'], opts.format, io.out);
      });
    });
  domain
    .command('remove')
    .description('remove an accepted domain')
    .argument('<name>', 'domain name')
    .option('--comment <text>', 'why (recorded in config history)')
    .option('--force', 'remove even the last accepted domain')
    .action(async (name: string, opts: { comment?: string; force?: boolean }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const { version } = await removeDomain(ctx, name, opts);
        io.out.write(`accepted domain ${name} removed (${changedIn(ctx, version)})\n`);
      });
    });
}
