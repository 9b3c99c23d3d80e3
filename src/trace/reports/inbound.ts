/**
 * @module trace/reports/inbound
 * Exchange's Inbound messages report (EAC > Reports > Mail flow; Start-HistoricalSearch
 * -ReportType ConnectorReport): message counts per day and in total, grouped by connector (its
 * name, or "No connector"), connector type (none | partner | onpremises) and TLS used (No TLS,
 * TLS 1.0 … 1.3). Filters: connector type, connector name, TLS, attribution. "No connector + No
 * TLS" is the canonical Direct Send audit view. The messages behind any row are listed by
 * `mailgate trace search` with the same filters (trace/search applies the same conditions).
 * Rejected transactions are counted too (column `rejected`): mailgate's trace is allowed to be
 * better than Exchange's, which never shows them. `source` narrows to the gateway or one import;
 * a window holding no data says so and where the data is (trace/reports/coverage).
 * Touches: reads trace_message.
 */
import type { Db } from '../../core/sqlite.ts';
import { traceReady } from '../store.ts';
import { emptyWindowNote } from './coverage.ts';
import { TLS_FILTER_VALUES, tlsLabel, type Report, type ReportWindow } from './common.ts';

export type ConnectorTypeFilter = 'none' | 'partner' | 'onpremises';
export type InboundTlsFilter = 'none' | '1.0' | '1.1' | '1.2' | '1.3';

export interface InboundFilter {
  connectorType?: ConnectorTypeFilter | undefined;
  /** Connector name (case-insensitive) or 'none'. */
  connector?: string | undefined;
  tls?: InboundTlsFilter | undefined;
  attribution?: string | undefined;
  /** Only rows of this source ('gateway' or 'import:<name>'). */
  source?: string | undefined;
}

interface Where {
  sql: string[];
  params: (string | number)[];
}

/** SQL conditions for the filters (shared shape with trace/search's TraceFilter). */
export function inboundConditions(f: InboundFilter): Where {
  const w: Where = { sql: [], params: [] };
  if (f.connectorType === 'none') w.sql.push("(connector IS NULL OR connector = '')");
  else if (f.connectorType === 'partner') w.sql.push("connector_type = 'Partner'");
  else if (f.connectorType === 'onpremises') w.sql.push("connector_type = 'OnPremises'");
  if (f.connector) {
    if (f.connector.toLowerCase() === 'none') w.sql.push("(connector IS NULL OR connector = '')");
    else {
      w.sql.push('connector = ? COLLATE NOCASE');
      w.params.push(f.connector);
    }
  }
  if (f.tls === 'none') w.sql.push("(tls_version IS NULL OR tls_version = '')");
  else if (f.tls) {
    const values = TLS_FILTER_VALUES[f.tls];
    w.sql.push(`tls_version IN (${values.map(() => '?').join(', ')})`);
    w.params.push(...values);
  }
  if (f.attribution) {
    w.sql.push('attribution = ?');
    w.params.push(f.attribution);
  }
  if (f.source) {
    w.sql.push('source = ?');
    w.params.push(f.source);
  }
  return w;
}

interface GroupRow {
  day: string;
  connector: string;
  connector_type: string;
  tls_version: string;
  messages: number;
  rejected: number;
}

type Counts = { messages: number; rejected: number };

function typeLabel(connector: string, type: string): string {
  if (connector === '') return 'none';
  return type.toLowerCase() === 'onpremises' ? 'onpremises' : type.toLowerCase() === 'partner' ? 'partner' : type.toLowerCase() || 'none';
}

function add(map: Map<string, Counts & Record<string, unknown>>, key: string, base: Record<string, unknown>, r: GroupRow): void {
  const cur = map.get(key) ?? { ...base, messages: 0, rejected: 0 };
  cur.messages += r.messages;
  cur.rejected += r.rejected;
  map.set(key, cur);
}

const ORDER = (a: Record<string, unknown>, b: Record<string, unknown>): number =>
  String(a.date ?? '').localeCompare(String(b.date ?? '')) ||
  String(a.connector).localeCompare(String(b.connector)) ||
  String(a.tls).localeCompare(String(b.tls));

/** Run the Inbound messages report over a window. */
export function inboundReport(db: Db, window: ReportWindow, filter: InboundFilter = {}): Report {
  const w = inboundConditions(filter);
  const title = 'Inbound messages report';
  const columnsDay = ['date', 'connector', 'connectorType', 'tls', 'messages', 'accepted', 'rejected'];
  const columnsTotal = ['connector', 'connectorType', 'tls', 'messages', 'accepted', 'rejected'];
  if (!traceReady(db)) {
    return { title, window, summary: [emptyWindowNote(db, window, filter.source)!, 'total: 0 messages'], sections: [{ name: 'per day', columns: columnsDay, rows: [] }, { name: 'total', columns: columnsTotal, rows: [] }] };
  }
  const where = ['received_at >= ?', 'received_at < ?', ...w.sql].join(' AND ');
  const rows = db
    .prepare(
      `SELECT date(received_at / 1000, 'unixepoch') AS day, coalesce(connector, '') AS connector,
              coalesce(connector_type, '') AS connector_type, coalesce(tls_version, '') AS tls_version,
              count(*) AS messages, sum(status = 'Rejected') AS rejected
       FROM trace_message WHERE ${where}
       GROUP BY day, connector, connector_type, tls_version`,
    )
    .all(window.since, window.until, ...w.params) as GroupRow[];
  const perDay = new Map<string, Counts & Record<string, unknown>>();
  const total = new Map<string, Counts & Record<string, unknown>>();
  let all = 0;
  let rejected = 0;
  for (const r of rows) {
    const connector = r.connector === '' ? 'No connector' : r.connector;
    const connectorType = typeLabel(r.connector, r.connector_type);
    const tls = tlsLabel(r.tls_version);
    add(perDay, [r.day, connector, connectorType, tls].join('\0'), { date: r.day, connector, connectorType, tls }, r);
    add(total, [connector, connectorType, tls].join('\0'), { connector, connectorType, tls }, r);
    all += r.messages;
    rejected += r.rejected;
  }
  const finish = (m: Map<string, Counts & Record<string, unknown>>): Record<string, unknown>[] =>
    [...m.values()].map((r) => ({ ...r, accepted: r.messages - r.rejected })).sort(ORDER);
  const empty = all === 0 ? emptyWindowNote(db, window, filter.source) : undefined;
  return {
    title,
    window,
    summary: [...(empty ? [empty] : []), `total: ${all} messages (${all - rejected} accepted, ${rejected} rejected)`],
    sections: [
      { name: 'per day', columns: columnsDay, rows: finish(perDay) },
      { name: 'total', columns: columnsTotal, rows: finish(total) },
    ],
  };
}
