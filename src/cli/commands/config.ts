/**
 * @module cli/commands/config
 * `mailgate config apply|export|history|show|validate`: the whole configuration as YAML. Apply is
 * all or nothing: every error is reported as `FILE: path: reason` and nothing is saved.
 * `show --changed` prints only what differs from the built-in defaults (like `postconf -n`),
 * `show --defaults` the defaults themselves (like `postconf -d`).
 * Touches: the config store (through cli/context); the files named by -f / -o.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { changedSettings, configToYaml, defaultConfig, keepMaskedSecrets, maskSecrets, parseConfigText, toReadableYaml, type Config } from '../../config/index.ts';
import { actor, defaultIo, withContext, type CliIo } from '../context.ts';
import { CliError, enumParser, formatOption, parsePositiveInt, printRows, UsageError, type OutputFormat } from '../format.ts';

function readConfigFile(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
  }
  return parseConfigText(text, file);
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
    .action(async (opts: { file: string; comment?: string }, cmd: Command) => {
      const cfg = readConfigFile(opts.file);
      await withContext(cmd, ({ store }) => {
        const v = store.save(keepMaskedSecrets(cfg, store.current()?.config), actor(), opts.comment ?? `config apply ${opts.file}`);
        io.out.write(`${opts.file}: applied as config version ${v} (${summary(cfg)})\n`);
      });
    });
  config
    .command('validate')
    .description('check FILE without applying it (every error: FILE: path: reason)')
    .requiredOption('-f, --file <file>', 'YAML configuration file')
    .action((opts: { file: string }) => {
      io.out.write(`${opts.file}: OK (${summary(readConfigFile(opts.file))})\n`);
    });
}

function registerExportHistory(config: Command, io: CliIo): void {
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
  config
    .command('history')
    .description('configuration versions, newest first (who, when, what)')
    .option('--limit <n>', 'how many versions', parsePositiveInt, 20)
    .addOption(formatOption())
    .action(async (opts: { limit: number; format: OutputFormat }, cmd: Command) => {
      await withContext(cmd, ({ store }) => {
        const rows = store.history(opts.limit).map((h) => ({ ...h, createdAt: new Date(h.createdAt).toISOString() }));
        printRows(rows, ['version', 'createdAt', 'actor', 'comment'], opts.format, io.out);
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
    .action(async (opts: { defaults?: boolean; changed?: boolean; format: 'yaml' | 'json' }, cmd: Command) => {
      if (opts.defaults && opts.changed) throw new UsageError('--defaults and --changed together');
      if (opts.defaults) {
        io.out.write(render(defaultConfig(), opts.format));
        return;
      }
      await withContext(cmd, ({ store }) => {
        const cur = store.current();
        if (!cur) throw new CliError('the store holds no configuration');
        const masked = maskSecrets(cur.config);
        const shown = opts.changed ? changedSettings(masked, defaultConfig()) : masked;
        io.out.write(opts.format === 'yaml' && !opts.changed ? configToYaml(masked) : render(shown, opts.format));
      });
    });
}

/** Register `config apply|export|history|show|validate`. */
export function registerConfig(program: Command, io: CliIo = defaultIo()): void {
  const config = program.command('config').description('the whole configuration: YAML in and out, versions');
  registerApplyValidate(config, io);
  registerExportHistory(config, io);
  registerShow(config, io);
}
