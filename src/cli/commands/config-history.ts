/**
 * @module cli/commands/config-history
 * `mailgate config history|diff|rollback`: configuration history an admin can use. History shows
 * who, when, why and a one-line summary of what each version changed; diff prints the YAML diff of
 * two versions (default: the one before the version in force, and the version in force) with every
 * secret masked; rollback saves a new version equal to an older one, recorded with who and why
 * (it is validated like any change, and refused without `--force` if it would receive no mail).
 * The logic is ops/config's; this file parses flags and prints.
 * Touches: the config store (through ops/config).
 */
import type { Command } from 'commander';
import { configDiff, configHistory, rollbackConfig } from '../../ops/config.ts';
import { changedIn, withOps, type CliIo } from '../context.ts';
import { formatOption, parsePositiveInt, printRows, UsageError, type OutputFormat } from '../format.ts';

function parseVersion(v: string): number {
  try {
    return parsePositiveInt(v);
  } catch {
    throw new UsageError(`a configuration version is a positive integer (got "${v}")`);
  }
}

function registerList(config: Command, io: CliIo): void {
  config
    .command('history')
    .description('configuration versions, newest first: who, when, why and what changed')
    .option('--limit <n>', 'how many versions', parsePositiveInt, 20)
    .addOption(formatOption())
    .action(async (opts: { limit: number; format: OutputFormat }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const rows = (await configHistory(ctx, opts.limit)).map((h) => ({ ...h, createdAt: new Date(h.createdAt).toISOString() }));
        printRows(rows, ['version', 'createdAt', 'actor', 'comment', 'changes'], opts.format, io.out);
      });
    });
}

function registerDiff(config: Command, io: CliIo): void {
  config
    .command('diff')
    .description('YAML diff of two versions (default: the previous and the one in force; secrets masked)')
    .argument('[from]', 'older version (default: the one before [to])', parseVersion)
    .argument('[to]', 'newer version (default: the version in force)', parseVersion)
    .action(async (from: number | undefined, to: number | undefined, _o: unknown, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const d = await configDiff(ctx, { ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
        io.out.write(d.diff || `config versions ${d.from} and ${d.to} are the same\n`);
      });
    });
}

function registerRollback(config: Command, io: CliIo): void {
  config
    .command('rollback')
    .description('make a new version equal to version N (recorded with who and why)')
    .argument('<version>', 'the version to go back to', parseVersion)
    .option('--comment <text>', 'why (recorded in config history)')
    .option('--force', 'even if that version has no receive connector or no accepted domain')
    .action(async (n: number, opts: { comment?: string; force?: boolean }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const { version } = await rollbackConfig(ctx, n, opts);
        io.out.write(`rolled back to version ${n} as ${changedIn(ctx, version)}\n`);
      });
    });
}

/** Register `config history|diff|rollback`. */
export function registerHistory(config: Command, io: CliIo): void {
  registerList(config, io);
  registerDiff(config, io);
  registerRollback(config, io);
}
