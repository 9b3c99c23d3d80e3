/**
 * @module cli/commands/audit-config
 * The tenant's own configuration in the audit: `mailgate audit import-config FILE… [--tenant NAME]`
 * stores Get-AcceptedDomain / Get-InboundConnector / Get-OutboundConnector /
 * Get-OrganizationConfig / Get-TransportRule output (ConvertTo-Json -Depth 5) as a named tenant;
 * `audit lint` prints the transport-rule findings (table, json or csv; exit 0 even with findings:
 * they are advice); `audit mirror` writes the tenant as a mailgate configuration — the
 * configuration in force with the tenant's accepted domains, inbound connectors and
 * RejectDirectSend — validated before it is written, with what could not be mirrored as comments
 * at its top and on stderr.
 * Touches: the given files (read), the audit_tenant_config table, the config store (read), -o FILE.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { LINT_CHECKS, lintRules, mirrorTenant, readTenantFile, resolveTenant, saveTenantConfig, TenantConfigRefused, type TenantConfig, type TenantFileSummary } from '../../audit/index.ts';
import { configErrorLines, ConfigError, configToYaml, validateConfig, type Config } from '../../config/index.ts';
import type { Db } from '../../core/sqlite.ts';
import { defaultIo, withContext, type CliIo } from '../context.ts';
import { CliError, UsageError, formatOption, printRows, type OutputFormat } from '../format.ts';

const NAME = /^[A-Za-z0-9._-]+$/;

/** The tenant's text for a terminal: control characters shown as \uXXXX, never sent raw. */
function safe(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The tenant a command means, as a CLI error when it cannot be decided. */
export function tenantFor(db: Db, given: string | undefined, source?: string): TenantConfig | undefined {
  if (given !== undefined && !NAME.test(given)) throw new UsageError(`--tenant must be letters, digits, ".", "_" or "-" (got "${given}")`);
  try {
    return resolveTenant(db, given, source);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

function requireTenant(db: Db, given: string | undefined): TenantConfig {
  const t = tenantFor(db, given);
  if (!t) throw new CliError('no tenant configuration imported: run mailgate audit import-config FILE… first (README: "The tenant\'s own configuration")');
  return t;
}

/** The tenant's domains: its accepted domains, or none when Get-AcceptedDomain was not imported. */
export function tenantDomainsOf(t: TenantConfig | undefined): string[] {
  return (t?.acceptedDomains ?? []).map((d) => d.domainName);
}

const FILE_KEY = { 'accepted-domain': 'acceptedDomains', 'inbound-connector': 'inboundConnectors', 'outbound-connector': 'outboundConnectors', organization: 'organization', 'transport-rule': 'transportRules' } as const;

function registerImportConfig(audit: Command, io: CliIo): void {
  audit
    .command('import-config')
    .description('import the tenant\'s own configuration: Get-AcceptedDomain, Get-InboundConnector, Get-OutboundConnector, Get-OrganizationConfig, Get-TransportRule saved with ConvertTo-Json -Depth 5')
    .argument('<file...>', 'JSON files, one cmdlet each (UTF-8 or UTF-16, as Out-File writes them)')
    .option('--tenant <name>', 'tenant name (default: the name of the only import, else "default"); audit plan --source import:NAME finds tenant NAME')
    .action(async (files: string[], o: { tenant?: string }, cmd: Command) =>
      withContext(cmd, (ctx) => {
        if (o.tenant !== undefined && !NAME.test(o.tenant)) throw new UsageError(`--tenant must be letters, digits, ".", "_" or "-" (got "${o.tenant}")`);
        const name = o.tenant ?? onlyImportName(ctx.db) ?? 'default';
        const t: TenantConfig = { name };
        const sums: TenantFileSummary[] = [];
        const from: Record<string, string> = {};
        for (const f of files) {
          try {
            const s = readTenantFile(f, t);
            sums.push(s);
            from[FILE_KEY[s.kind]] = f;
          } catch (e) {
            if (e instanceof TenantConfigRefused) throw new CliError(e.message);
            if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`${f}: no such file`);
            throw e;
          }
        }
        saveTenantConfig(ctx.db, t, from);
        io.out.write(`tenant configuration "${name}"\n`);
        for (const s of sums) {
          io.out.write(`${s.file}: ${s.cmdlet}, ${s.encoding}; ${s.objects} object(s)\n`);
          for (const n of s.notes) io.out.write(`  note: ${safe(n)}\n`);
        }
        if (t.organization) io.out.write(`RejectDirectSend: ${t.organization.rejectDirectSend === null ? 'not set (off)' : t.organization.rejectDirectSend ? '$true' : '$false'}\n`);
        if (t.transportRules) io.out.write(`transport rules: ${t.transportRules.length}; findings: ${lintRules(t.transportRules, tenantDomainsOf(resolveTenant(ctx.db, name))).length} (mailgate audit lint --tenant ${name})\n`);
      }),
    );
}

/** The import name when exactly one import is in the trace. */
function onlyImportName(db: Db): string | undefined {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'trace_message'").get();
  if (!has) return undefined;
  const rows = db.prepare('SELECT DISTINCT import_name AS n FROM trace_message WHERE import_name IS NOT NULL LIMIT 2').all() as { n: string }[];
  return rows.length === 1 ? rows[0]?.n : undefined;
}

function registerLint(audit: Command, io: CliIo): void {
  audit
    .command('lint')
    .description('lint the tenant\'s transport rules for the mistakes seen in real tenants (audit-mode actions, header vs envelope sender, SetSCL -1, disabled rules)')
    .option('--tenant <name>', 'tenant configuration (default: the only one)')
    .addOption(formatOption())
    .action(async (o: { tenant?: string; format: OutputFormat }, cmd: Command) =>
      withContext(cmd, (ctx) => {
        const t = requireTenant(ctx.db, o.tenant);
        if (!t.transportRules) throw new CliError(`tenant "${t.name}" has no Get-TransportRule output imported: Get-TransportRule | ConvertTo-Json -Depth 5 | Out-File rules.json, then mailgate audit import-config --tenant ${t.name} rules.json`);
        const findings = lintRules(t.transportRules, tenantDomainsOf(t));
        const rows = findings.map((f) => ({ ...f, title: LINT_CHECKS[f.code].title }));
        if (o.format === 'table' && rows.length === 0) io.out.write(`no findings in ${t.transportRules.length} transport rule(s) of tenant "${t.name}"\n`);
        else printRows(rows, ['severity', 'code', 'rule', 'priority', 'message', 'fix'], o.format, io.out);
      }),
    );
}

function registerMirror(audit: Command, io: CliIo): void {
  audit
    .command('mirror')
    .description('write the imported tenant as a mailgate configuration (the one in force with the tenant\'s accepted domains, inbound connectors and RejectDirectSend)')
    .option('--tenant <name>', 'tenant configuration (default: the only one)')
    .option('-o, --output <file>', 'write the YAML to FILE (default: stdout)')
    .action(async (o: { tenant?: string; output?: string }, cmd: Command) =>
      withContext(cmd, (ctx) => {
        const t = requireTenant(ctx.db, o.tenant);
        const m = mirrorTenant(t);
        const base = structuredClone(ctx.store.current()?.config as Config);
        const merged = {
          ...base,
          organization: { ...base.organization, ...m.config.organization },
          acceptedDomains: m.config.acceptedDomains ?? base.acceptedDomains,
          inboundConnectors: m.config.inboundConnectors ?? base.inboundConnectors,
        };
        let cfg: Config;
        try {
          cfg = validateConfig(merged);
        } catch (e) {
          if (e instanceof ConfigError) throw new CliError(`the mirrored configuration is not valid:\n${configErrorLines(e).join('\n')}`);
          throw e;
        }
        const head = [`# mailgate configuration mirrored from tenant "${t.name}" (mailgate audit mirror)`, '# apply with: mailgate config validate -f FILE && mailgate config apply -f FILE'];
        const notes = m.notMirrored.map((n) => `# not mirrored: ${safe(n)}`);
        const text = [...head, ...notes, configToYaml(cfg)].join('\n');
        for (const n of m.notMirrored) io.err.write(`not mirrored: ${safe(n)}\n`);
        if (o.output) {
          writeFileSync(o.output, text);
          io.err.write(`wrote ${o.output}: ${cfg.acceptedDomains.length} accepted domain(s), ${cfg.inboundConnectors.length} inbound connector(s), rejectDirectSend ${cfg.organization.rejectDirectSend}\n`);
        } else io.out.write(text);
      }),
    );
}

/** Register `audit import-config`, `audit lint` and `audit mirror`. */
export function registerAuditConfig(audit: Command, io: CliIo = defaultIo()): void {
  registerImportConfig(audit, io);
  registerLint(audit, io);
  registerMirror(audit, io);
}
