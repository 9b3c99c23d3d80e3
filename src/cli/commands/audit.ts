/**
 * @module cli/commands/audit
 * `mailgate audit import FILE...` and `mailgate audit plan`: audit an Exchange Online tenant from
 * its own exports, with no gateway running. Import streams the files into the trace (source
 * `import:<name>`), shows progress on stderr and prints a summary (per file: kind, encoding, rows,
 * new/duplicate copies, malformed rows listed with file, line and reason, where a cut-off file
 * stopped). Plan writes the Direct Send migration plan (Markdown or HTML) to stdout or `-o FILE`.
 * An unknown file shape or an undecodable file is a CliError (exit 1) naming what was expected.
 * Touches: the given files (read), the trace store, DNS (the tenant's SPF record) unless `--spf`.
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { resolverFromSettings, type DnsResolveFn } from '../../auth/index.ts';
import {
  buildPlan,
  createSpfAuthorizer,
  importFiles,
  ImportRefused,
  KIND_FLAGS,
  renderHtml,
  renderMarkdown,
  tenantSpfRecords,
  type ImportSummary,
  type KindFlag,
  type RuleVariant,
} from '../../audit/index.ts';
import { reportWindow } from '../../trace/reports/index.ts';
import { defaultIo, withContext, type CliIo } from '../context.ts';
import { CliError, UsageError, csvField, enumParser, splitList, terminalSafe, type Out } from '../format.ts';

/** Seams of the audit commands (tests pass a fake DNS and a clock). */
export interface AuditDeps {
  resolve?: DnsResolveFn;
  now?: () => number;
  /** Where progress goes (default: io.err); `isTTY` picks the bar or the periodic line. */
  progress?: Out & { isTTY?: boolean };
}

/** How many malformed rows the summary lists (all are counted; --errors lists more). */
const LISTED = 50;

/** Print an import summary. */
export function printImportSummary(s: ImportSummary, out: Out, listed = LISTED): void {
  out.write(`imported as ${s.source}\n`);
  for (const f of s.files) {
    out.write(
      `${f.file}: ${f.kind}, ${f.encoding}; ${f.rows} row(s): ${f.inserted} message copies added, ${f.duplicates} already present${f.reportRows ? `, ${f.reportRows} report rows` : ''}, ${f.malformed} malformed\n`,
    );
    for (const n of f.notes) out.write(`  note: ${terminalSafe(n)}\n`);
    if (f.stoppedAt) out.write(`  stopped at ${f.stoppedAt}\n`);
  }
  out.write(`tenant domains: ${terminalSafe(s.tenantDomains.join(', ')) || '(none)'} (${s.tenantHow})\n`);
  out.write(`direct-send copies in this import: ${s.directSend}\n`);
  if (s.malformedCount > 0) {
    out.write(`malformed rows: ${s.malformedCount} (not imported)\n`);
    for (const m of s.malformed.slice(0, listed)) out.write(`  ${terminalSafe(m.file)}:${m.line}: ${terminalSafe(m.reason)}\n`);
    if (s.malformedCount > listed) out.write(`  … and ${s.malformedCount - listed} more (all counted; --errors FILE lists ${s.malformed.length > listed ? 'up to ' + s.malformed.length : 'them'})\n`);
  }
}

interface ImportOpts {
  kind: KindFlag;
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
    .option('--errors <file>', 'write every kept malformed row (file,line,reason) as CSV to FILE')
    .action(async (files: string[], o: ImportOpts, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        if (o.name !== undefined && !/^[A-Za-z0-9._-]+$/.test(o.name)) throw new UsageError(`--name must be letters, digits, ".", "_" or "-" (got "${o.name}")`);
        let summary: ImportSummary;
        try {
          summary = await importFiles(ctx.db, files, {
            kind: o.kind,
            tenantDomains: o.tenantDomains ? splitList(o.tenantDomains) : undefined,
            name: o.name,
            progress: deps.progress ?? (io.err as Out & { isTTY?: boolean }),
            keepMalformed: o.errors ? 100_000 : 1000,
          });
        } catch (e) {
          if (e instanceof ImportRefused) throw new CliError(e.message);
          throw e;
        }
        printImportSummary(summary, io.out);
        if (o.errors) {
          writeFileSync(o.errors, 'file,line,reason\r\n' + summary.malformed.map((m) => `${csvField(m.file)},${m.line},${csvField(m.reason)}\r\n`).join(''));
        }
      }),
    );
}

interface PlanOpts {
  since: string;
  source?: string;
  format: 'md' | 'html';
  output?: string;
  spf?: string;
  tenantDomains?: string[];
  rule: RuleVariant;
}

function registerPlan(audit: Command, io: CliIo, deps: AuditDeps): void {
  audit
    .command('plan')
    .description('write the Direct Send migration plan (sources, classification, PowerShell in order, KQL) as Markdown or HTML')
    .option('--since <window>', 'e.g. 30d, 90d or an ISO date', '90d')
    .option('--source <source>', 'gateway or import:NAME (default: every source)')
    .option('--format <format>', 'md|html', enumParser('--format', ['md', 'html'] as const), 'md')
    .option('-o, --output <file>', 'write the plan to FILE (default: stdout)')
    .option('--spf <record>', 'the tenant\'s SPF record ("v=spf1 ..."), instead of looking it up')
    .option('--tenant-domains <domains...>', 'accepted domains, comma separated (default: the Direct Send sender domains)')
    .option('--rule <variant>', 'narrow|broad transport rule for the monitoring period', enumParser('--rule', ['narrow', 'broad'] as const), 'narrow')
    .action(async (o: PlanOpts, cmd: Command) =>
      withContext(cmd, async (ctx) => {
        if (o.spf !== undefined && !/^v=spf1(\s|$)/i.test(o.spf.trim())) throw new UsageError(`--spf must be an SPF record starting with "v=spf1" (got "${o.spf}")`);
        if (o.source !== undefined && o.source !== 'gateway' && !/^import:[A-Za-z0-9._-]+$/.test(o.source)) throw new UsageError(`--source must be gateway or import:NAME (got "${o.source}")`);
        const now = (deps.now ?? Date.now)();
        const days = ctx.store.current()?.config.trace.retentionDays ?? 90;
        let window;
        try {
          window = reportWindow(o.since, now, days);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        const given = o.tenantDomains ? splitList(o.tenantDomains).map((d) => d.toLowerCase()) : undefined;
        // Tenant domains for SPF: given, else found by a first pass without SPF (the sources' sender domains).
        const tenant = given ?? (await buildPlan(ctx.db, { window, source: o.source, now })).tenantDomains;
        const spfOpts = { resolve: deps.resolve ?? resolverFromSettings(ctx.store.current()?.config.dns).resolve, record: o.spf?.trim(), tenantDomains: tenant };
        const plan = await buildPlan(ctx.db, {
          window,
          source: o.source,
          tenantDomains: tenant,
          spfCheck: createSpfAuthorizer(spfOpts),
          spfRecords: await tenantSpfRecords(spfOpts, tenant),
          rule: o.rule,
          now,
        });
        const text = o.format === 'html' ? renderHtml(plan) : renderMarkdown(plan);
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
}
