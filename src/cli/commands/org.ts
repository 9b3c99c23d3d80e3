/**
 * @module cli/commands/org
 * `mailgate org show|set`: the Organization settings (Get-/Set-OrganizationConfig), chiefly
 * RejectDirectSend. Every change is a new config version.
 * The logic is ops/org's; this file parses flags and prints.
 * Touches: the config store (through ops/org).
 */
import type { Command } from 'commander';
import { describeOrgChange, setOrg, showOrg, type OrgChange } from '../../ops/org.ts';
import { changedIn, defaultIo, withOps, type CliIo } from '../context.ts';
import { formatOption, parseBool, printRecord, UsageError, type OutputFormat } from '../format.ts';

/** Register `org show` and `org set`. */
export function registerOrg(program: Command, io: CliIo = defaultIo()): void {
  const org = program.command('org').description('organization settings (RejectDirectSend, name, host name)');
  org
    .command('show')
    .description('show the organization settings')
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        printRecord(await showOrg(ctx), opts.format, io.out);
      });
    });
  org
    .command('set')
    .description('change organization settings (Set-OrganizationConfig)')
    .option('--reject-direct-send <bool>', 'refuse anonymous mail from your accepted domains that matched no connector (5.7.68)', parseBool)
    .option('--reject-direct-send-header-from <bool>', 'also apply RejectDirectSend to the header From', parseBool)
    .option('--name <name>', 'organization name')
    .option('--hostname <host>', 'banner and Received host name (empty = system host name)')
    .option('--comment <text>', 'why (recorded in config history)')
    .action(async (opts: OrgChange & { comment?: string }, cmd: Command) => {
      const { comment, ...set } = opts;
      if (!describeOrgChange(set)) throw new UsageError('org set: nothing to change (see --help)');
      await withOps(cmd, async (ctx) => {
        const { version } = await setOrg(ctx, set, comment);
        io.out.write(`organization updated (${changedIn(ctx, version)})\n`);
      });
    });
}
