/**
 * @module cli/commands/report
 * `mailgate report inbound|direct-send|stale-allow|hunt`: the trace reports (Exchange's Inbound
 * messages report, the Direct Send readiness report, stale connectors/allow entries, and read-only
 * SQL hunting with saved queries). Every report takes `--since` (clamped to trace.retentionDays,
 * with a note on stderr) and `--format table|json|csv` (CSV: the report's main table).
 * The direct-send report evaluates the organization's SPF record for every source (live through
 * the config's DNS, or `--spf RECORD` for every sender domain, as `audit plan --spf`); tests inject
 * `ReportDeps.spfCheck` or `ReportDeps.resolve`.
 * Touches: the trace tables and config store (read only); hunts run in a child process.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { ensureTraceSchema } from '../../trace/index.ts';
import { HUNT_DEFAULT_LIMIT, HUNT_DEFAULT_TIMEOUT_MS, HuntRefused, runHunt, SAVED_HUNTS } from '../../trace/hunt.ts';
import {
  directSendReport,
  inboundReport,
  reportWindow,
  sourceWindow,
  staleAllowReport,
  DEFAULT_INTERNAL_RANGES,
  type Report,
  type ReportWindow,
  type SpfAuthorizer,
} from '../../trace/reports/index.ts';
import { defaultIo, withContext, type CliContext, type CliIo } from '../context.ts';
import { resolverFromSettings, type DnsResolveFn } from '../../auth/index.ts';
import { createSpfAuthorizer } from '../../audit/index.ts';
import { egressStep, egressStepSummary } from '../../egress/index.ts';
import { CliError, UsageError, enumParser, formatOption, parsePositiveInt, printRows, requireIps, splitList, terminalSafe, type OutputFormat } from '../format.ts';

/** Seams of the report commands. */
export interface ReportDeps {
  /** Live SPF evaluation of the organization's record (default: through our caching resolver). */
  spfCheck?: SpfAuthorizer;
  /** The resolver SPF evaluation uses (default: the config's DNS through auth/'s caching resolver). */
  resolve?: DnsResolveFn;
}

/**
 * The live SPF check: the organization's published record evaluated through auth/'s resolver on the
 * DNS servers of the config in force (the audit plan's authorizer; one implementation for both).
 */
function liveSpfCheck(ctx: CliContext, deps: ReportDeps, record?: string): SpfAuthorizer {
  return createSpfAuthorizer({ resolve: deps.resolve ?? resolverFromSettings(ctx.store.current()?.config.dns).resolve, record });
}

const TLS = ['none', '1.0', '1.1', '1.2', '1.3'] as const;
const CONNECTOR_TYPES = ['none', 'partner', 'onpremises'] as const;

/**
 * The window of `--since`, clamped to the retention in force; the clamp note goes to stderr. Over
 * `--source import:NAME` the window is not clamped (imports are never pruned) and, without
 * `--since`, is the import's own time range (trace/reports coverage).
 */
export function windowFor(ctx: CliContext, since: string | undefined, io: CliIo, now = Date.now(), source?: string, defaultSince = '7d'): ReportWindow {
  const days = ctx.store.current()?.config.trace.retentionDays ?? 90;
  let w: ReportWindow;
  try {
    w = source === undefined ? reportWindow(since ?? defaultSince, now, days) : sourceWindow(ctx.db, { since, defaultSince, source, now, retentionDays: days });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (w.note) io.err.write(`note: ${w.note}\n`);
  return w;
}

/** Print a report: table (title, sections, summary), JSON (one object) or CSV (the main section). */
export function printReport(r: Report, format: OutputFormat, io: CliIo): void {
  if (format === 'json') {
    const { since, until, clamped, retentionDays } = r.window;
    const sections = Object.fromEntries(r.sections.map((s) => [s.name, s.rows.map((row) => Object.fromEntries(s.columns.map((c) => [c, row[c] ?? null])))]));
    io.out.write(JSON.stringify({ title: r.title, window: { since: new Date(since).toISOString(), until: new Date(until).toISOString(), clamped, retentionDays }, summary: r.summary, ...sections }, null, 2) + '\n');
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

/** `--source`: gateway or import:NAME. */
function checkSource(source: string | undefined): void {
  if (source !== undefined && source !== 'gateway' && !/^import:[A-Za-z0-9._-]+$/.test(source)) throw new UsageError(`--source must be gateway or import:NAME, not "${source}"`);
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
      withContext(cmd, (ctx) => {
        ensureTraceSchema(ctx.db);
        checkSource(o.source);
        const w = windowFor(ctx, o.since, io, Date.now(), o.source, '7d');
        printReport(inboundReport(ctx.db, w, { connectorType: o.connectorType, connector: o.connector, tls: o.tls, attribution: o.attribution, source: o.source }), o.format, io);
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
      withContext(cmd, async (ctx) => {
        ensureTraceSchema(ctx.db);
        const internal = o.internal ? requireIps('--internal', splitList(o.internal)) : undefined;
        checkSource(o.source);
        const w = windowFor(ctx, o.since, io, Date.now(), o.source, '30d');
        if (o.spf !== undefined && !/^v=spf1(\s|$)/i.test(o.spf.trim())) throw new UsageError(`--spf must be an SPF record starting with "v=spf1" (got "${o.spf}")`);
        const spfCheck = o.spf !== undefined ? liveSpfCheck(ctx, deps, o.spf.trim()) : (deps.spfCheck ?? liveSpfCheck(ctx, deps));
        const r = await directSendReport(ctx.db, w, { internal, source: o.source, spfCheck });
        const egress = ctx.store.current()?.config.egress;
        if (egress) r.summary.push(...egressStepSummary(egressStep(egress)));
        printReport(r, o.format, io);
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
      withContext(cmd, (ctx) => {
        ensureTraceSchema(ctx.db);
        const cfg = ctx.store.current()?.config;
        if (!cfg) throw new CliError('no configuration in force');
        const w = windowFor(ctx, o.since, io);
        printReport(staleAllowReport(ctx.db, w, { connectors: cfg.inboundConnectors, allow: cfg.lists.allow }, { includeUsed: o.all }), o.format, io);
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
    .option('--saved <name>', `a saved hunt: ${Object.keys(SAVED_HUNTS).join(', ')}`)
    .option('--list-saved', 'list the saved hunts')
    .option('--limit <n>', 'most rows returned', parsePositiveInt, HUNT_DEFAULT_LIMIT)
    .option('--timeout <ms>', 'time limit in milliseconds', parsePositiveInt, HUNT_DEFAULT_TIMEOUT_MS)
    .addOption(formatOption())
    .action(async (o: HuntOpts, cmd: Command) => {
      if (o.listSaved) {
        printRows(Object.entries(SAVED_HUNTS).map(([name, h]) => ({ name, description: h.description, sql: h.sql })), ['name', 'description', ...(o.format === 'table' ? [] : ['sql'])], o.format, io.out);
        return;
      }
      if ((o.query === undefined) === (o.saved === undefined)) throw new UsageError('give exactly one of --query, --saved or --list-saved');
      let sql = o.query ?? '';
      if (o.saved !== undefined) {
        const h = SAVED_HUNTS[o.saved];
        if (!h) throw new UsageError(`no saved hunt "${o.saved}" (have: ${Object.keys(SAVED_HUNTS).join(', ')})`);
        sql = h.sql;
      }
      const file = await withContext(cmd, (ctx) => {
        ensureTraceSchema(ctx.db);
        return join(ctx.dataDir, 'mailgate.db');
      });
      try {
        const r = await runHunt(file, sql, { limit: o.limit, timeoutMs: o.timeout });
        printRows(r.rows, r.columns, o.format, io.out);
        if (r.truncated) io.err.write(`note: more rows matched; showing the first ${o.limit} (--limit)\n`);
      } catch (e) {
        if (e instanceof HuntRefused) throw new UsageError(e.message);
        throw new CliError(`query failed: ${e instanceof Error ? e.message : String(e)}`);
      }
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
