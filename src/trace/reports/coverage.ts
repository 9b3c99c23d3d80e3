/**
 * @module trace/reports/coverage
 * Where the trace's data lies in time, so that no report or plan is silently empty:
 * - `sourceWindow`: the window of a report over one source. Over an import (`import:NAME`) with no
 *   `--since`, the import's own time range; imported rows are never pruned, so a window over an
 *   import is not clamped to the trace retention. Over the gateway (or every source), the
 *   `--since` window clamped to the retention as before (trace/reports/common reportWindow).
 * - `rowCountSync`: the rows of a window (of a source), as the audit plan shows them.
 * - `emptyWindowNote`: when the window holds no row of the source, a sentence saying so and where
 *   the data is ("import contoso holds 2026-05-01..2026-05-30 (50 rows); use --source
 *   import:contoso"), else undefined.
 * Touches: reads trace_message.
 */
import type { Db } from '../../core/sqlite.ts';
import { traceReady } from '../store.ts';
import type { RowScope, SourceSpan, TraceStore } from '../trace-store.ts';
import { reportWindow, utcDay, type ReportWindow } from './common.ts';

export type { SourceSpan };

const isImport = (source: string | undefined): boolean => source?.startsWith('import:') === true;

/** Rows and first/last time of every source (or one), by source name. */
export function sourceSpans(db: Db, source?: string): SourceSpan[] {
  if (!traceReady(db)) return [];
  const where = source === undefined ? '' : 'WHERE source = ?';
  return db
    .prepare(`SELECT coalesce(source, 'gateway') AS source, count(*) AS rows, min(received_at) AS first, max(received_at) AS last FROM trace_message ${where} GROUP BY 1 ORDER BY 1`)
    .all(...(source === undefined ? [] : [source])) as SourceSpan[];
}

/** Rows of the window (of the source). */
export function rowCountSync(db: Db, scope: RowScope): number {
  if (!traceReady(db)) return 0;
  const by = scope.source === undefined ? '' : ' AND source = ?';
  const args = scope.source === undefined ? [scope.since, scope.until] : [scope.since, scope.until, scope.source];
  return (db.prepare(`SELECT count(*) AS n FROM trace_message WHERE received_at >= ? AND received_at < ?${by}`).get(...args) as { n: number }).n;
}

export interface SourceWindowInput {
  since?: string | undefined;
  defaultSince: string;
  source?: string | undefined;
  now: number;
  retentionDays: number;
}

/** The window of a report over `source` (module header), reading the import's span from any TraceStore (a fleet sees every node's imports). Rejects with the parseSince error on a bad `--since`. */
export async function sourceWindowFrom(trace: Pick<TraceStore, 'sourceSpans'>, o: SourceWindowInput): Promise<ReportWindow> {
  if (!isImport(o.source) || o.since !== undefined) return spanWindow(undefined, o);
  return spanWindow((await trace.sourceSpans(o.source))[0], o);
}

/** sourceWindowFrom over a SQLite handle. */
export function sourceWindow(db: Db, o: SourceWindowInput): ReportWindow {
  return spanWindow(isImport(o.source) && o.since === undefined ? sourceSpans(db, o.source)[0] : undefined, o);
}

function spanWindow(span: SourceSpan | undefined, o: SourceWindowInput): ReportWindow {
  if (!isImport(o.source)) return reportWindow(o.since ?? o.defaultSince, o.now, o.retentionDays);
  if (o.since !== undefined) return reportWindow(o.since, o.now, o.retentionDays, false);
  if (!span) return reportWindow(o.defaultSince, o.now, o.retentionDays, false);
  return {
    since: span.first,
    until: span.last + 1,
    requested: span.first,
    clamped: false,
    retentionDays: o.retentionDays,
    note: `window: ${o.source}'s own time range ${new Date(span.first).toISOString()} to ${new Date(span.last).toISOString()} (--since to choose another)`,
  };
}

function label(source: string): string {
  return isImport(source) ? `import ${source.slice('import:'.length)}` : source === 'gateway' ? 'the gateway trace' : `source ${source}`;
}

/** The "no data in the window" sentence (module header), or undefined when the window holds data. */
export function emptyWindowNote(db: Db, w: ReportWindow, source?: string): string | undefined {
  if (traceReady(db)) {
    const bySource = source === undefined ? '' : ' AND source = ?';
    const args = source === undefined ? [w.since, w.until] : [w.since, w.until, source];
    if (db.prepare(`SELECT 1 FROM trace_message WHERE received_at >= ? AND received_at < ?${bySource} LIMIT 1`).get(...args)) return undefined;
  }
  return emptyWindowText(w, sourceSpans(db), source);
}

/** emptyWindowNote over any TraceStore. */
export async function emptyWindowNoteFrom(rows: Pick<TraceStore, 'hasRows' | 'sourceSpans'>, w: ReportWindow, source?: string): Promise<string | undefined> {
  if (await rows.hasRows({ since: w.since, until: w.until, source })) return undefined;
  return emptyWindowText(w, await rows.sourceSpans(), source);
}

function emptyWindowText(w: ReportWindow, spans: readonly SourceSpan[], source?: string): string {
  const head = `no data in the window ${new Date(w.since).toISOString()} to ${new Date(w.until).toISOString()}${source ? ` for ${source}` : ''}`;
  if (spans.length === 0) return `${head}: the trace holds no data at all (import an export with mailgate audit import, or let the gateway receive mail)`;
  const where = spans.map((s) => `${label(s.source)} holds ${utcDay(s.first)}..${utcDay(s.last)} (${s.rows} rows)`).join('; ');
  const own = source === undefined ? undefined : spans.find((s) => s.source === source);
  const hint = own
    ? `use --since ${utcDay(own.first)}${isImport(source) ? ` (or leave --since out: a report over ${source} defaults to its own time range)` : ''}`
    : `use --source ${(spans.find((s) => isImport(s.source)) ?? spans[0]!).source}${isImport(spans.find((s) => isImport(s.source))?.source) ? ' (its window defaults to its own time range)' : ` --since ${utcDay(spans[0]!.first)}`}`;
  return `${head}: ${where}; ${hint}`;
}
