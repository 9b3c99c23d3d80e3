/**
 * @module cli/commands/config-history
 * `mailgate config history|diff|rollback`: configuration history an admin can use. History shows
 * who, when, why and a one-line summary of what each version changed; diff prints the YAML diff of
 * two versions (default: the one before the version in force, and the version in force) with every
 * secret masked; rollback saves a new version equal to an older one, recorded with who and why
 * (it is validated like any change, and refused without `--force` if it would receive no mail).
 * Touches: the config store (through cli/context).
 */
import type { Command } from 'commander';
import { lineDiff, maskedYaml, summarizeChange, type ConfigStore, type ConfigVersion } from '../../config/index.ts';
import { actor, changedIn, requireComplete, withContext, type CliIo } from '../context.ts';
import { CliError, formatOption, parsePositiveInt, printRows, UsageError, type OutputFormat } from '../format.ts';

function requireVersion(store: ConfigStore, v: number): ConfigVersion {
  const got = store.get(v);
  if (!got) throw new CliError(`no configuration version ${v} (see config history)`);
  return got;
}

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
      await withContext(cmd, ({ store }) => {
        const infos = store.history(opts.limit);
        const rows = infos.map((h) => {
          const before = h.version > 1 ? store.get(h.version - 1) : undefined;
          const changes = summarizeChange(before?.config, requireVersion(store, h.version).config);
          return { ...h, createdAt: new Date(h.createdAt).toISOString(), changes };
        });
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
      await withContext(cmd, ({ store }) => {
        const b = to ?? store.currentVersion();
        const a = from ?? b - 1;
        if (a < 1) throw new CliError(`version ${b} is the first one: nothing to compare it with`);
        const older = requireVersion(store, a);
        const newer = requireVersion(store, b);
        const text = lineDiff(maskedYaml(older.config), maskedYaml(newer.config), `config version ${a}`, `config version ${b}`);
        io.out.write(text || `config versions ${a} and ${b} are the same\n`);
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
      await withContext(cmd, (ctx) => {
        const target = requireVersion(ctx.store, n);
        const cur = ctx.store.currentVersion();
        if (n === cur) throw new CliError(`version ${n} is already in force`);
        requireComplete(target.config, opts.force);
        const why = `rollback to version ${n}${opts.comment ? `: ${opts.comment}` : ''}`;
        const v = ctx.store.save(target.config, actor(), why);
        io.out.write(`rolled back to version ${n} as ${changedIn(ctx, v)}\n`);
      });
    });
}

/** Register `config history|diff|rollback`. */
export function registerHistory(config: Command, io: CliIo): void {
  registerList(config, io);
  registerDiff(config, io);
  registerRollback(config, io);
}
