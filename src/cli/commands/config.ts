/**
 * @module cli/commands/config
 * `mailgate config apply|export|history|show|validate`: the whole configuration as YAML. Apply is
 * all or nothing: every error is reported as `FILE: path: reason` and nothing is saved; warnings
 * (`FILE: path: warning: …`, config/warnings) go to stderr and do not stop it; a file with no
 * receive connector or no accepted domain is refused unless `--force`.
 * `show --changed` prints only what differs from the built-in defaults (like `postconf -n`),
 * `show --defaults` the defaults themselves (like `postconf -d`), `show --version N` an older
 * version. History, diff and rollback live in cli/commands/config-history.
 * Touches: the config store (through cli/context); the files named by -f / -o.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { changedSettings, completenessProblems, configToYaml, configWarnings, defaultConfig, keepMaskedSecrets, maskSecrets, parseConfigText, toReadableYaml, type Config } from '../../config/index.ts';
import { actor, changedIn, defaultIo, requireComplete, withContext, type CliIo } from '../context.ts';
import { registerHistory } from './config-history.ts';
import { CliError, enumParser, formatOption, parsePositiveInt, printRows, UsageError, type OutputFormat } from '../format.ts';

/** Read, validate and compile FILE; its warnings (config/warnings) go to stderr. */
function readConfigFile(file: string, io: CliIo): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const cfg = parseConfigText(text, file);
  for (const w of configWarnings(cfg, file)) io.err.write(w + '\n');
  return cfg;
}

function summary(c: Config): string {
  return [
    `${c.acceptedDomains.length} accepted domains`,
    `${c.inboundConnectors.length} inbound connectors`,
    `${c.receiveConnectors.length} receive connectors`,
    `${c.routes.length} routes`,
    `${c.users.length} users`,
  ].join(', ');
}

function registerApplyValidate(config: Command, io: CliIo): void {
  config
    .command('apply')
    .description('validate FILE and make it the new configuration version (all or nothing)')
    .requiredOption('-f, --file <file>', 'YAML configuration file')
    .option('--comment <text>', 'why (recorded in config history)')
    .option('--force', 'save even a configuration with no receive connector or no accepted domain')
    .action(async (opts: { file: string; comment?: string; force?: boolean }, cmd: Command) => {
      const cfg = readConfigFile(opts.file, io);
      requireComplete(cfg, opts.force);
      await withContext(cmd, (ctx) => {
        const v = ctx.store.save(keepMaskedSecrets(cfg, ctx.store.current()?.config), actor(), opts.comment ?? `config apply ${opts.file}`);
        io.out.write(`${opts.file}: applied as ${changedIn(ctx, v)} (${summary(cfg)})\n`);
      });
    });
  config
    .command('validate')
    .description('check FILE without applying it (every error: FILE: path: reason)')
    .requiredOption('-f, --file <file>', 'YAML configuration file')
    .action((opts: { file: string }) => {
      const cfg = readConfigFile(opts.file, io);
      io.out.write(`${opts.file}: OK (${summary(cfg)})\n`);
      for (const p of completenessProblems(cfg)) io.out.write(`warning: ${p} (config apply needs --force)\n`);
    });
}

function registerExport(config: Command, io: CliIo): void {
  config
    .command('export')
    .description('write the current configuration as YAML (stdout, or -o FILE)')
    .option('-o, --output <file>', 'write to FILE (mode 0600: it holds password hashes)')
    .action(async (opts: { output?: string }, cmd: Command) => {
      await withContext(cmd, ({ store }) => {
        const cur = store.current();
        if (!cur) throw new CliError('the store holds no configuration');
        const when = new Date(cur.createdAt).toISOString();
        const text = `# mailgate configuration version ${cur.version}, saved ${when} by ${cur.actor}\n${configToYaml(maskSecrets(cur.config))}`;
        if (opts.output) {
          writeFileSync(opts.output, text, { mode: 0o600 });
          io.out.write(`config version ${cur.version} written to ${opts.output}\n`);
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
        io.out.write(render(defaultConfig(), opts.format));
        return;
      }
      await withContext(cmd, ({ store }) => {
        const cur = opts.version === undefined ? store.current() : store.get(opts.version);
        if (!cur) throw new CliError(opts.version === undefined ? 'the store holds no configuration' : `no configuration version ${opts.version} (see config history)`);
        const masked = maskSecrets(cur.config);
        const shown = opts.changed ? changedSettings(masked, defaultConfig()) : masked;
        io.out.write(opts.format === 'yaml' && !opts.changed ? configToYaml(masked) : render(shown, opts.format));
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
