/**
 * @module stores/sqlite/trace-search
 * Trace searches and one message with its events over one node's SQLite file (the SQLite
 * adapter's search and show): the filters are built by trace/search (shared with PostgreSQL),
 * the query and the row mapping are SQLite's.
 * Touches: reads trace_message and trace_event.
 */
import type { Db } from '../../core/sqlite.ts';
import { buildTraceQuery, searchLimit, traceReady, type TraceEvent, type TraceFilter, type TraceMessage } from '../../trace/index.ts';
import { readEvents, readMessage } from '../../trace/store.ts';
import { recordToMessage, type MessageRecord } from '../../trace/rows.ts';

/**
 * Messages matching every given filter, newest first (received_at, then id, descending).
 * Throws on an invalid filter (bad CIDR, unknown TLS value, non-positive limit).
 */
export function searchTrace(db: Db, filter: TraceFilter = {}): TraceMessage[] {
  const limit = searchLimit(filter);
  const q = buildTraceQuery(filter);
  if (!traceReady(db)) return [];
  const where = q.where.length ? `WHERE ${q.where.join(' AND ')}` : '';
  // Without JS checks SQL's LIMIT is exact; with them rows stream until `limit` pass.
  const sqlLimit = q.checks.length ? '' : 'LIMIT ?';
  const params = q.checks.length ? q.params : [...q.params, limit];
  const stmt = db.prepare(`SELECT * FROM trace_message ${where} ORDER BY received_at DESC, id DESC ${sqlLimit}`);
  const out: TraceMessage[] = [];
  for (const row of stmt.iterate(...params) as IterableIterator<MessageRecord>) {
    const m = recordToMessage(row);
    if (!q.checks.every((c) => c(m))) continue;
    out.push(m);
    if (out.length >= limit) break; // leaving the loop closes the iterator
  }
  return out;
}

/** One message with its events (oldest first), or undefined if the id is unknown. */
export function getTrace(db: Db, id: string): { message: TraceMessage; events: TraceEvent[] } | undefined {
  const message = readMessage(db, id);
  if (!message) return undefined;
  return { message, events: readEvents(db, id) };
}
