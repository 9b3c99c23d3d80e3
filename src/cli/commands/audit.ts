/**
 * @module cli/commands/audit
 * `mailgate audit import FILE...` and `mailgate audit plan`: audit an Exchange Online tenant from
 * its own exports, with no gateway running. Import streams the files into the trace (source
 * `import:<name>`), shows progress on stderr and prints a summary (per file: kind, encoding, rows,
 * new/duplicate copies, malformed rows listed with file, line and reason, where a cut-off file
 * stopped). Plan writes the staged Direct Send migration plan (Markdown, HTML, or a PowerShell
 * script that runs one stage per call) to stdout or `-o FILE`.
 * An unknown file shape or an undecodable file is a CliError (exit 1) naming what was expected.
 * The CLI's face of ops/audit; this file formats (summary, progress, plan file).
 * Touches: nothing itself (ops/audit: the files, the trace store, DNS unless `--spf`); -o FILE, --errors FILE.
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import type { DnsResolveFn } from '../../auth/index.ts';
import type { DateFormatFlag, ImportSummary, KindFlag, RuleVariant } from '../../audit/index.ts';
import { auditPlan, DATE_FORMATS, importExports, KIND_FLAGS, LIVE_IMPORT_CHUNK_ROWS, liveGateway, renderPlan } from '../../ops/audit.ts';
import { OpsError } from '../../ops/errors.ts';
import { registerAuditDatasets } from './audit-datasets.ts';
import { defaultIo, withOps, type CliIo } from '../context.ts';
import { registerAuditConfig } from './audit-config.ts';
import { CliError, UsageError, csvField, enumParser, parsePositiveInt, splitList, terminalSafe, type Out } from '../format.ts';
import { flagsChecked } from '../ops-context.ts';

/** Seams of the audit commands (tests pass a fake DNS and a clock). */
export interface AuditDeps {
  resolve?: DnsResolveFn;
  now?: () => number;
  /** Where progress goes (default: io.err); `isTTY` picks the bar or the periodic line. */
  progress?: Out & { isTTY?: boolean };
}

/** How many malformed rows the summary lists (all are counted; --errors lists more). */
const LISTED = 50;

/** Text from an export made safe for a terminal: control characters other than LF shown as \xNN. */
export function visible(text: string): string {
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Print an import summary (every string from a file or an export shown through `visible`). */
export function printImportSummary(s: ImportSummary, raw: Out, listed = LISTED): void {
  const out: Out = { write: (t: string) => raw.write(visible(t.slice(0, -1)) + t.slice(-1)) };
  out.write(`imported as ${s.source}\n`);
  for (const f of s.files) {
    out.write(
      `${f.file}: ${f.kind}, ${f.encoding}; ${f.rows} row(s): ${f.inserted} message copies added, ${f.duplicates} already present${f.reportRows ? `, ${f.reportRows} report rows` : ''}, ${f.malformed} malformed\n`,
    );
    out.write(`  sha256: ${f.sha256}\n`);
    for (const n of f.notes) out.write(`  note: ${terminalSafe(n)}\n`);
    if (f.stoppedAt) out.write(`  stopped at ${f.stoppedAt}\n`);
  }
  out.write(`tenant domains: ${terminalSafe(s.tenantDomains.join(', ')) || '(none)'} (${s.tenantHow})\n`);
  out.write(`direct-send copies in this import: ${s.directSend}\n`);
  const d = s.dataset;
  const span = d.first !== undefined && d.last !== undefined ? `, ${new Date(d.first).toISOString()} to ${new Date(d.last).toISOString()}` : '';
  out.write(`${s.source} now holds ${d.rows} message copies${span} (mailgate audit list)\n`);
  if (s.malformedCount > 0) {
    out.write(`malformed rows: ${s.malformedCount} (not imported)\n`);
    for (const m of s.malformed.slice(0, listed)) out.write(`  ${terminalSafe(m.file)}:${m.line}: ${terminalSafe(m.reason)}\n`);
    if (s.malformedCount > listed) out.write(`  … and ${s.malformedCount - listed} more (all counted; --errors FILE lists ${s.malformed.length > listed ? 'up to ' + s.malformed.length : 'them'})\n`);
  }
}

interface ImportOpts {
  kind: KindFlag;
  dateFormat: DateFormatFlag;
  tenantDomains?: string[];
  name?: string;
  errors?: string;
}

function registerImport(audit: Command, io: CliIo, deps: AuditDeps): void {
  audit
    .command('import')
    .description('import Exchange Online exports (message trace, historical search, Inbound messages report, Defender EmailEvents) into the trace')
    .argument('<file...>', 'export files (CSV in UTF-8 or UTF-16; EmailEvents also as JSON lines or a JSON array)')
    .option('--kind <kind>', KIND_FLAGS.join('|'), enumParser('--kind', KIND_FLAGS), 'auto')
    .option('--tenant-domains <domains...>', 'accepted domains, comma separated (default: inferred from inbound recipients)')
    .option('--name <name>', 'import name: rows get source import:NAME (default: the first file name)')
    .option('--date-format <order>', `${DATE_FORMATS.join('|')}: the order of numeric dates such as 06/12/2026 (default auto: detected across the rows; an ambiguous file is refused)`, enumParser('--date-format', DATE_FORMATS), 'auto')
    .option('--errors <file>', 'write every kept malformed row (file,line,reason) as CSV to FILE')
    .action(async (files: string[], o: ImportOpts, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        if (o.name !== undefined && !/^[A-Za-z0-9._-]+$/.test(o.name)) throw new UsageError(`--name must be letters, digits, ".", "_" or "-" (got "${o.name}")`);
        let summary: ImportSummary & { shippedToFleet?: number };
        const gateway = liveGateway(ctx);
        if (gateway !== undefined) io.err.write(`a gateway (PID ${gateway}) runs on this data directory: importing in chunks of ${LIVE_IMPORT_CHUNK_ROWS.toLocaleString('en-US')} rows, so it keeps answering mail\n`);
        try {
          summary = await importExports(ctx, files, {
            kind: o.kind,
            tenantDomains: o.tenantDomains ? splitList(o.tenantDomains) : undefined,
            name: o.name,
            dateFormat: o.dateFormat,
            progress: deps.progress ?? (io.err as Out & { isTTY?: boolean }),
            keepMalformed: o.errors ? 100_000 : 1000,
          });
        } catch (e) {
          if (e instanceof OpsError && e.kind === 'invalid') throw new CliError(visible(e.message));
          throw e;
        }
        printImportSummary(summary, io.out);
        if (summary.shippedToFleet !== undefined) io.out.write(`shipped ${summary.shippedToFleet.toLocaleString('en-US')} trace rows to the fleet's shared trace\n`);
        else if (ctx.shipTrace && gateway !== undefined) io.out.write(`the gateway (PID ${gateway}) ships the imported rows to the fleet's shared trace\n`);
        if (o.errors) {
          writeFileSync(o.errors, 'file,line,reason\r\n' + summary.malformed.map((m) => `${csvField(m.file)},${m.line},${csvField(m.reason)}\r\n`).join(''));
        }
      }),
    );
}

interface PlanOpts {
  since?: string;
  source?: string;
  format: 'md' | 'html' | 'ps1';
  output?: string;
  quietDays: number;
  spf?: string;
  tenantDomains?: string[];
  rule: RuleVariant;
  tenant?: string;
}

function registerPlan(audit: Command, io: CliIo, deps: AuditDeps): void {
  audit
    .command('plan')
    .description('write the staged Direct Send migration plan (sources, classification and its signals, PowerShell stages with checkpoints and rollbacks, KQL) as Markdown, HTML or a stage-by-stage PowerShell script')
    .option('--since <window>', "e.g. 30d, 90d or an ISO date (default 90d; over --source import:NAME, the import's own time range)")
    .option('--source <source>', 'gateway or import:NAME (default: every source)')
    .option('--format <format>', 'md|html|ps1', enumParser('--format', ['md', 'html', 'ps1'] as const), 'md')
    .option('-o, --output <file>', 'write the plan to FILE (default: stdout)')
    .option('--spf <record>', 'the tenant\'s SPF record ("v=spf1 ..."), instead of looking it up')
    .option('--tenant-domains <domains...>', 'accepted domains, comma separated (default: the Direct Send sender domains)')
    .option('--rule <variant>', 'narrow|broad transport rule for the monitoring period', enumParser('--rule', ['narrow', 'broad'] as const), 'narrow')
    .option('--quiet-days <n>', 'days the audit-mode monitoring rule runs before restrictions and RejectDirectSend', parsePositiveInt, 14)
    .option('--tenant <name>', "the tenant's own configuration (audit import-config; default: the import's tenant or the only one)")
    .action(async (o: PlanOpts, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const plan = await flagsChecked(() =>
          auditPlan(
            ctx,
            { since: o.since, source: o.source, spf: o.spf, tenantDomains: o.tenantDomains ? splitList(o.tenantDomains) : undefined, rule: o.rule, quietDays: o.quietDays, tenant: o.tenant },
            { resolve: deps.resolve, now: (deps.now ?? Date.now)() },
          ),
        );
        const text = renderPlan(plan, o.format);
        if (o.output) {
          writeFileSync(o.output, text);
          io.err.write(`wrote ${o.output}: ${plan.sources.length} source(s), ${plan.connectors.length} connector(s)\n`);
        } else io.out.write(text);
      }),
    );
}

/** Register `mailgate audit …`. */
export function registerAudit(program: Command, io: CliIo = defaultIo(), deps: AuditDeps = {}): void {
  const audit = program.command('audit').description('audit an Exchange Online tenant from its exports: import them, then plan the Direct Send migration');
  registerImport(audit, io, deps);
  registerPlan(audit, io, deps);
  registerAuditConfig(audit, io);
  registerAuditDatasets(audit, io);
}
