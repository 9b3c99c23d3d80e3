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
 * The CLI's face of ops/audit-config; this file only formats.
 * Touches: nothing itself (ops/audit-config: the files, the audit_tenant_config table, the config store); -o FILE.
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { configToYaml } from '../../config/index.ts';
import { importTenantConfig, lintTenant, mirrorTenantConfig } from '../../ops/audit-config.ts';
import { OpsError } from '../../ops/errors.ts';
import { defaultIo, withOps, type CliIo } from '../context.ts';
import { CliError, formatOption, printRows, type OutputFormat } from '../format.ts';
import { usageOf } from '../ops-context.ts';

/** The tenant's text for a terminal: control characters shown as \uXXXX, never sent raw. */
function safe(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** An ops/ refusal as the CLI reports it: a bad --tenant is a usage error (exit 2), the rest exit 1. */
async function cliRefusals<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof OpsError && e.kind !== 'invalid') throw new CliError(e.message);
    throw usageOf(e);
  }
}

function registerImportConfig(audit: Command, io: CliIo): void {
  audit
    .command('import-config')
    .description('import the tenant\'s own configuration: Get-AcceptedDomain, Get-InboundConnector, Get-OutboundConnector, Get-OrganizationConfig, Get-TransportRule saved with ConvertTo-Json -Depth 5')
    .argument('<file...>', 'JSON files, one cmdlet each (UTF-8 or UTF-16, as Out-File writes them)')
    .option('--tenant <name>', 'tenant name (default: the name of the only import, else "default"); audit plan --source import:NAME finds tenant NAME')
    .action(async (files: string[], o: { tenant?: string }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const r = await cliRefusals(() => importTenantConfig(ctx, files, o.tenant));
        const t = r.tenant;
        io.out.write(`tenant configuration "${r.name}"\n`);
        for (const s of r.files) {
          io.out.write(`${s.file}: ${s.cmdlet}, ${s.encoding}; ${s.objects} object(s)\n`);
          for (const n of s.notes) io.out.write(`  note: ${safe(n)}\n`);
        }
        if (t.organization) io.out.write(`RejectDirectSend: ${t.organization.rejectDirectSend === null ? 'not set (off)' : t.organization.rejectDirectSend ? '$true' : '$false'}\n`);
        if (t.transportRules) io.out.write(`transport rules: ${t.transportRules.length}; findings: ${r.findings ?? 0} (mailgate audit lint --tenant ${r.name})\n`);
      }),
    );
}

function registerLint(audit: Command, io: CliIo): void {
  audit
    .command('lint')
    .description('lint the tenant\'s transport rules for the mistakes seen in real tenants (audit-mode actions, header vs envelope sender, SetSCL -1, disabled rules)')
    .option('--tenant <name>', 'tenant configuration (default: the only one)')
    .addOption(formatOption())
    .action(async (o: { tenant?: string; format: OutputFormat }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const r = await cliRefusals(() => lintTenant(ctx, o.tenant));
        if (o.format === 'table' && r.findings.length === 0) io.out.write(`no findings in ${r.rules} transport rule(s) of tenant "${r.tenant}"\n`);
        else printRows(r.findings.map((f) => ({ ...f })), ['severity', 'code', 'rule', 'priority', 'message', 'fix'], o.format, io.out);
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
      withOps(cmd, async (ctx) => {
        const { tenant, config: cfg, notMirrored } = await cliRefusals(() => mirrorTenantConfig(ctx, o.tenant));
        const head = [`# mailgate configuration mirrored from tenant "${tenant}" (mailgate audit mirror)`, '# apply with: mailgate config validate -f FILE && mailgate config apply -f FILE'];
        const notes = notMirrored.map((n) => `# not mirrored: ${safe(n)}`);
        const text = [...head, ...notes, configToYaml(cfg)].join('\n');
        for (const n of notMirrored) io.err.write(`not mirrored: ${safe(n)}\n`);
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
