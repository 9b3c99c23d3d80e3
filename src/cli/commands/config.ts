/**
 * @module cli/commands/config
 * `mailgate config apply|export|history|show|validate`: the whole configuration as YAML. Apply is
 * all or nothing: every error is reported as `FILE: path: reason` and nothing is saved; warnings
 * (`FILE: path: warning: …`, config/warnings) go to stderr and do not stop it; a file with no
 * receive connector or no accepted domain is refused unless `--force`.
 * `show --changed` prints only what differs from the built-in defaults (like `postconf -n`),
 * `show --defaults` the defaults themselves (like `postconf -d`), `show --version N` an older
 * version. History, diff and rollback live in cli/commands/config-history.
 * The logic is ops/config's; this file reads and writes the files and prints.
 * Touches: the config store (through ops/config); the files named by -f / -o.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { configToYaml, toReadableYaml, type Config } from '../../config/index.ts';
import { applyConfig, configDefaults, exportConfig, showConfig, validateConfigText, type Validated } from '../../ops/config.ts';
import { requireComplete } from '../../ops/model.ts';
import { changedIn, defaultIo, withOps, type CliIo } from '../context.ts';
import { registerHistory } from './config-history.ts';
import { CliError, enumParser, parsePositiveInt, UsageError } from '../format.ts';

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
}

/** Read, validate and compile FILE; its warnings (config/warnings) go to stderr. */
function readConfigFile(file: string, io: CliIo): Validated {
  const v = validateConfigText(readText(file), file);
  for (const w of v.warnings) io.err.write(w + '\n');
  return v;
}

function registerApplyValidate(config: Command, io: CliIo): void {
  config
    .command('apply')
    .description('validate FILE and make it the new configuration version (all or nothing)')
    .requiredOption('-f, --file <file>', 'YAML configuration file')
    .option('--comment <text>', 'why (recorded in config history)')
    .option('--force', 'save even a configuration with no receive connector or no accepted domain')
    .action(async (opts: { file: string; comment?: string; force?: boolean }, cmd: Command) => {
      const text = readText(opts.file);
      const checked = readConfigFile(opts.file, io);
      requireComplete(checked.config, opts.force);
      await withOps(cmd, async (ctx) => {
        // Completeness was checked above, before the store is opened (as before); ops need not ask again.
        const r = await applyConfig(ctx, { text, source: opts.file, force: true, ...(opts.comment !== undefined ? { comment: opts.comment } : {}) });
        io.out.write(`${opts.file}: applied as ${changedIn(ctx, r.version)} (${r.summary})\n`);
      });
    });
  config
    .command('validate')
    .description('check FILE without applying it (every error: FILE: path: reason)')
    .requiredOption('-f, --file <file>', 'YAML configuration file')
    .action((opts: { file: string }) => {
      const v = readConfigFile(opts.file, io);
      io.out.write(`${opts.file}: OK (${v.summary})\n`);
      for (const p of v.incomplete) io.out.write(`warning: ${p} (config apply needs --force)\n`);
    });
}

function registerExport(config: Command, io: CliIo): void {
  config
    .command('export')
    .description('write the current configuration as YAML (stdout, or -o FILE)')
    .option('-o, --output <file>', 'write to FILE (mode 0600: it holds password hashes)')
    .action(async (opts: { output?: string }, cmd: Command) => {
      await withOps(cmd, async (ctx) => {
        const { version, yaml: text } = await exportConfig(ctx);
        if (opts.output) {
          writeFileSync(opts.output, text, { mode: 0o600 });
          io.out.write(`config version ${version} written to ${opts.output}\n`);
        } else io.out.write(text);
      });
    });
}

const parseShowFormat = enumParser('--format', ['yaml', 'json'] as const);

function render(obj: unknown, format: 'yaml' | 'json'): string {
  return format === 'json' ? JSON.stringify(obj, null, 2) + '\n' : toReadableYaml(obj);
}

function registerShow(config: Command, io: CliIo): void {
  config
    .command('show')
    .description('print the configuration in force (--changed: only non-defaults; --defaults: the built-in defaults)')
    .option('--defaults', 'the built-in default of every setting')
    .option('--changed', 'only settings that differ from the defaults')
    .option('--format <format>', 'yaml or json', parseShowFormat, 'yaml')
    .option('--version <n>', 'an older configuration version (see config history)', parsePositiveInt)
    .action(async (opts: { defaults?: boolean; changed?: boolean; format: 'yaml' | 'json'; version?: number }, cmd: Command) => {
      if (opts.defaults && opts.changed) throw new UsageError('--defaults and --changed together');
      if (opts.defaults && opts.version !== undefined) throw new UsageError('--defaults and --version together');
      if (opts.defaults) {
        io.out.write(render(configDefaults(), opts.format));
        return;
      }
      await withOps(cmd, async (ctx) => {
        const shown = (await showConfig(ctx, { ...(opts.version !== undefined ? { version: opts.version } : {}), changed: opts.changed ?? false })).config;
        io.out.write(opts.format === 'yaml' && !opts.changed ? configToYaml(shown as Config /* whole, not --changed */) : render(shown, opts.format));
      });
    });
}

/** Register `config apply|export|history|diff|rollback|show|validate`. */
export function registerConfig(program: Command, io: CliIo = defaultIo()): void {
  const config = program.command('config').description('the whole configuration: YAML in and out, versions');
  registerApplyValidate(config, io);
  registerExport(config, io);
  registerHistory(config, io);
  registerShow(config, io);
}
