/**
 * @module cli/commands/report
 * `mailgate report inbound|direct-send|stale-allow|hunt`: the trace reports (Exchange's Inbound
 * messages report, the Direct Send readiness report, stale connectors/allow entries, and read-only
 * SQL hunting with saved queries). Every report takes `--since` (clamped to trace.retentionDays,
 * with a note on stderr) and `--format table|json|csv` (CSV: the report's main table).
 * The direct-send report evaluates the organization's SPF record for every source (live through
 * the config's DNS, or `--spf RECORD` for every sender domain, as `audit plan --spf`); tests inject
 * `ReportDeps.spfCheck` or `ReportDeps.resolve`. The reports are ops/reports'; this file formats them
 * (windowFor and printReport serve `policy replay` too).
 * Touches: nothing itself (ops/reports reads the trace and config store; hunts run in a child process).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { DnsResolveFn } from '../../auth/index.ts';
import type { Report, ReportWindow, SpfAuthorizer } from '../../trace/reports/index.ts';
import { DEFAULT_INTERNAL_RANGES, directSend, HUNT_DEFAULT_LIMIT, HUNT_DEFAULT_TIMEOUT_MS, HuntFailed, hunt, inbound, REPORT_CONNECTOR_TYPES as CONNECTOR_TYPES, REPORT_TLS as TLS, reportDocument, savedHunts, staleAllow, windowOf } from '../../ops/reports.ts';
import { OpsError } from '../../ops/errors.ts';
import type { OpsContext } from '../../ops/context.ts';
import { dataDirOf, defaultIo, withOps, type CliIo } from '../context.ts';
import { CliError, UsageError, enumParser, formatOption, parsePositiveInt, printRows, requireIps, splitList, terminalSafe, type OutputFormat } from '../format.ts';
import { flagsChecked, usageOf } from '../ops-context.ts';

/** Seams of the report commands. */
export interface ReportDeps {
  /** Live SPF evaluation of the organization's record (default: through our caching resolver). */
  spfCheck?: SpfAuthorizer;
  /** The resolver SPF evaluation uses (default: the config's DNS through auth/'s caching resolver). */
  resolve?: DnsResolveFn;
}

/**
 * The window of `--since`, clamped to the retention in force; the clamp note goes to stderr. Over
 * `--source import:NAME` the window is not clamped (imports are never pruned) and, without
 * `--since`, is the import's own time range (trace/reports coverage).
 */
export async function windowFor(ctx: OpsContext, since: string | undefined, io: CliIo, now = Date.now(), source?: string, defaultSince = '7d'): Promise<ReportWindow> {
  let w: ReportWindow;
  try {
    w = await windowOf(ctx, since, { source, defaultSince, now });
  } catch (e) {
    throw usageOf(e);
  }
  noteOf(w, io);
  return w;
}

/** The clamp or coverage note of a report's window, on stderr. */
function noteOf(w: ReportWindow, io: CliIo): void {
  if (w.note) io.err.write(`note: ${w.note}\n`);
}

/** Print a report: table (title, sections, summary), JSON (one object) or CSV (the main section). */
export function printReport(r: Report, format: OutputFormat, io: CliIo): void {
  if (format === 'json') {
    io.out.write(JSON.stringify(reportDocument(r), null, 2) + '\n');
    return;
  }
  const main = r.sections[0];
  if (format === 'csv') {
    if (main) printRows(main.rows, main.columns, 'csv', io.out);
    return;
  }
  io.out.write(`${r.title}: ${new Date(r.window.since).toISOString()} to ${new Date(r.window.until).toISOString()}\n`);
  for (const s of r.sections) {
    io.out.write(`\n${s.name}:\n`);
    if (s.rows.length === 0) io.out.write('(none)\n');
    else printRows(s.rows, s.columns, 'table', io.out);
  }
  io.out.write('\n' + r.summary.map(terminalSafe).join('\n') + '\n');
}

/** Run a report through ops/ (a bad flag value exits 2) and print it with its window's note. */
async function run(io: CliIo, format: OutputFormat, fn: () => Promise<Report>): Promise<void> {
  const r = await flagsChecked(fn);
  noteOf(r.window, io);
  printReport(r, format, io);
}

interface InboundOpts {
  since?: string;
  source?: string;
  connectorType?: (typeof CONNECTOR_TYPES)[number];
  connector?: string;
  tls?: (typeof TLS)[number];
  attribution?: string;
  format: OutputFormat;
}

function registerInbound(report: Command, io: CliIo): void {
  report
    .command('inbound')
    .description("Exchange's Inbound messages report: per day and total by connector, connector type and TLS")
    .option('--since <window>', "e.g. 1h, 7d, 90d or an ISO date (default 7d; over --source import:NAME, the import's own time range)")
    .option('--source <source>', 'only traffic from this source: gateway, or import:NAME (mailgate audit import); default every source')
    .option('--connector-type <type>', CONNECTOR_TYPES.join('|'), enumParser('--connector-type', CONNECTOR_TYPES))
    .option('--connector <name>', 'connector name, or none')
    .option('--tls <version>', TLS.join('|'), enumParser('--tls', TLS))
    .option('--attribution <kind>', 'authenticated|connector|direct-send|anonymous-external|relay-denied')
    .addOption(formatOption())
    .action(async (o: InboundOpts, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const { format, ...input } = o;
        await run(io, format, () => inbound(ctx, input));
      }),
    );
}

function registerDirectSend(report: Command, io: CliIo, deps: ReportDeps): void {
  report
    .command('direct-send')
    .description('Direct Send readiness: every anonymous accepted-domain sender, classified, with the command that migrates it')
    .option('--since <window>', "e.g. 7d, 30d, 90d or an ISO date (default 30d; over --source import:NAME, the import's own time range)")
    .option('--internal <cidr...>', `internal ranges for classification (default ${DEFAULT_INTERNAL_RANGES.join(' ')})`)
    .option('--source <source>', 'only traffic from this source: gateway, or import:NAME (mailgate audit import); default every source')
    .option('--spf <record>', 'the organization\'s SPF record ("v=spf1 ..."), used for every sender domain instead of looking it up')
    .addOption(formatOption())
    .action(async (o: { since?: string; internal?: string[]; source?: string; spf?: string; format: OutputFormat }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        const internal = o.internal ? requireIps('--internal', splitList(o.internal)) : undefined;
        await run(io, o.format, () => directSend(ctx, { since: o.since, source: o.source, spf: o.spf, internal }, deps));
      }),
    );
}

function registerStale(report: Command, io: CliIo): void {
  report
    .command('stale-allow')
    .description('connectors, connector IPs and allow-list entries that matched no traffic in the window')
    .option('--since <window>', 'e.g. 30d, 90d or an ISO date', '90d')
    .option('--all', 'list every entry with its traffic, not only the stale ones')
    .addOption(formatOption())
    .action(async (o: { since: string; all?: boolean; format: OutputFormat }, cmd: Command) =>
      withOps(cmd, async (ctx) => {
        await run(io, o.format, () => staleAllow(ctx, { since: o.since, all: o.all }));
      }),
    );
}

interface HuntOpts {
  query?: string;
  saved?: string;
  listSaved?: boolean;
  limit: number;
  timeout: number;
  format: OutputFormat;
}

function registerHunt(report: Command, io: CliIo): void {
  report
    .command('hunt')
    .description('read-only SQL over the trace (one SELECT; row and time limits), or a saved hunt')
    .option('--query <sql>', 'a single SELECT or WITH … SELECT over trace_message / trace_event')
    .option('--saved <name>', `a saved hunt: ${savedHunts().map((h) => h.name).join(', ')}`)
    .option('--list-saved', 'list the saved hunts')
    .option('--limit <n>', 'most rows returned', parsePositiveInt, HUNT_DEFAULT_LIMIT)
    .option('--timeout <ms>', 'time limit in milliseconds', parsePositiveInt, HUNT_DEFAULT_TIMEOUT_MS)
    .addOption(formatOption())
    .action(async (o: HuntOpts, cmd: Command) => {
      if (o.listSaved) {
        // Each hunt in the data directory's trace store's SQL (PostgreSQL's on a fleet node);
        // without a data directory, SQLite's (the list needs no store).
        const columns = ['name', 'description', ...(o.format === 'table' ? [] : ['sql'])];
        if (!existsSync(join(dataDirOf(cmd), 'mailgate.db'))) printRows(savedHunts(), columns, o.format, io.out);
        else await withOps(cmd, (ctx) => printRows(savedHunts(ctx), columns, o.format, io.out));
        return;
      }
      if ((o.query === undefined) === (o.saved === undefined)) throw new UsageError('give exactly one of --query, --saved or --list-saved');
      await withOps(cmd, async (ctx) => {
        let r;
        try {
          r = await hunt(ctx, { query: o.query, saved: o.saved, limit: o.limit, timeoutMs: o.timeout });
        } catch (e) {
          // The database refused the query while running it: the command failed (exit 1), the flags were fine.
          if (e instanceof HuntFailed) throw new CliError(e.message);
          if (e instanceof OpsError && e.kind === 'not-found') throw new UsageError(e.message); // --saved NAME: a bad flag value
          throw usageOf(e);
        }
        printRows(r.rows, r.columns, o.format, io.out);
        if (r.truncated) io.err.write(`note: more rows matched; showing the first ${o.limit} (--limit)\n`);
      });
    });
}

/** Register `report inbound|direct-send|stale-allow|hunt`. */
export function registerReport(program: Command, io: CliIo = defaultIo(), deps: ReportDeps = {}): void {
  const report = program.command('report').description('reports over the trace: inbound, direct-send readiness, stale allow entries, hunting');
  registerInbound(report, io);
  registerDirectSend(report, io, deps);
  registerStale(report, io);
  registerHunt(report, io);
}
