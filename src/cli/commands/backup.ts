/**
 * @module cli/commands/backup
 * `mailgate backup DIR`: a consistent copy of the data directory, safe while `serve` runs;
 * `mailgate restore DIR [--force]`: put a backup into the data directory (`--data`), refused while
 * a gateway runs on it, and over a non-empty one without --force. The work is in daemon/backup.ts.
 * Touches: the data directory and the backup directory (through daemon/backup.ts).
 */
import type { Command } from 'commander';
import { DATA_VERSION } from '../../core/data-version.ts';
import { BackupError, backupDataDir, restoreDataDir } from '../../daemon/backup.ts';
import { CliError, type Out } from '../format.ts';

function dataOf(cmd: Command): string {
  return (cmd.optsWithGlobals() as { data?: string }).data ?? './data';
}

async function refusals<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof BackupError) throw new CliError(e.message);
    throw e;
  }
}

/** Register `backup` and `restore`. */
export function registerBackup(program: Command, out: Out = process.stdout): void {
  program
    .command('backup')
    .description('copy the data directory (store, spool, TLS material) into DIR, safe while serve runs')
    .argument('<dir>', 'a new or empty directory')
    .action(async (dir: string, _opts: unknown, cmd: Command) => {
      const m = await refusals(() => backupDataDir(dataOf(cmd), dir));
      out.write(`backup of ${m.source} written to ${dir}: ${m.queued} queued message(s), ${m.spoolFiles} spool file(s), ${m.journalSegments} journal segment(s), data version ${m.dataVersion}\n`);
    });
  program
    .command('restore')
    .description('put a backup made by `mailgate backup` into the data directory (--data); never while serve runs on it')
    .argument('<dir>', 'the backup directory')
    .option('--force', 'replace the store, spool and TLS material of a non-empty data directory')
    .action(async (dir: string, opts: { force?: boolean }, cmd: Command) => {
      const m = await refusals(() => restoreDataDir(dir, dataOf(cmd), { force: opts.force === true }));
      const migrated = m.migratedFrom < DATA_VERSION ? `, migrated from data version ${m.migratedFrom} to ${DATA_VERSION}` : '';
      out.write(`backup of ${m.createdAt} restored into ${dataOf(cmd)}: ${m.queued} queued message(s) will be delivered by the next \`mailgate serve\`${migrated}\n`);
    });
}
