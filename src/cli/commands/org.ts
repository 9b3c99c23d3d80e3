/**
 * @module cli/commands/org
 * `mailgate org show|set`: the Organization settings (Get-/Set-OrganizationConfig), chiefly
 * RejectDirectSend. Every change is a new config version.
 * Touches: the config store (through cli/context).
 */
import type { Command } from 'commander';
import { actor, changedIn, defaultIo, withContext, type CliIo } from '../context.ts';
import { formatOption, parseBool, printRecord, UsageError, type OutputFormat } from '../format.ts';

interface SetOpts {
  rejectDirectSend?: boolean;
  rejectDirectSendHeaderFrom?: boolean;
  name?: string;
  hostname?: string;
}

function describeSet(o: SetOpts): string {
  return Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

/** Register `org show` and `org set`. */
export function registerOrg(program: Command, io: CliIo = defaultIo()): void {
  const org = program.command('org').description('organization settings (RejectDirectSend, name, host name)');
  org
    .command('show')
    .description('show the organization settings')
    .addOption(formatOption())
    .action(async (opts: { format: OutputFormat }, cmd: Command) => {
      await withContext(cmd, ({ store }) => {
        const cfg = store.current()?.config;
        printRecord({ ...cfg?.organization }, opts.format, io.out);
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
    .action(async (opts: SetOpts & { comment?: string }, cmd: Command) => {
      const { comment, ...set } = opts;
      const what = describeSet(set);
      if (!what) throw new UsageError('org set: nothing to change (see --help)');
      await withContext(cmd, ({ store, dataDir }) => {
        const v = store.update(actor(), comment ?? `org set ${what}`, (draft) => {
          Object.assign(draft.organization, Object.fromEntries(Object.entries(set).filter(([, x]) => x !== undefined)));
        });
        io.out.write(`organization updated (${changedIn({ dataDir }, v)})\n`);
      });
    });
}
