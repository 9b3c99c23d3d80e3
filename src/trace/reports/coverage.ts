/**
 * @module trace/reports/coverage
 * Where the trace's data lies in time, so that no report or plan is silently empty:
 * - `sourceWindowFrom`: the window of a report over one source. Over an import (`import:NAME`) with no
 *   `--since`, the import's own time range; imported rows are never pruned, so a window over an
 *   import is not clamped to the trace retention. Over the gateway (or every source), the
 *   `--since` window clamped to the retention as before (trace/reports/common reportWindow).
 * - `emptyWindowNoteFrom`: when the window holds no row of the source, a sentence saying so and where
 *   the data is ("import contoso holds 2026-05-01..2026-05-30 (50 rows); use --source
 *   import:contoso"), else undefined.
 * Both read the spans through a TraceStore (stores/ hold the SQL).
 * Touches: nothing itself (the given TraceStore).
 */
import type { SourceSpan, TraceStore } from '../trace-store.ts';
import { reportWindow, utcDay, type ReportWindow } from './common.ts';

export type { SourceSpan };

const isImport = (source: string | undefined): boolean => source?.startsWith('import:') === true;

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
