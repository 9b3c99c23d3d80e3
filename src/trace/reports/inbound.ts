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
 * a window holding no data says so and where the data is (trace/reports/coverage). The groups come
 * from TraceStore.inboundGroups (each store's SQL, with the conditions built here).
 * Touches: nothing itself (the given TraceStore).
 */
import { emptyWindowNoteFrom } from './coverage.ts';
import type { SearchDialect } from '../search.ts';
import type { ConnectorTypeFilter, InboundFilter, InboundGroup, InboundTlsFilter, TraceStore } from '../trace-store.ts';
import { TLS_FILTER_VALUES, tlsLabel, type Report, type ReportWindow } from './common.ts';

export type { ConnectorTypeFilter, InboundFilter, InboundTlsFilter };

interface Where {
  sql: string[];
  params: (string | number)[];
}

/** SQL conditions for the filters (shared shape with trace/search's TraceFilter), `?` placeholders. */
export function inboundConditions(f: InboundFilter, dialect: Pick<SearchDialect, 'equalsNoCase'> = { equalsNoCase: (c) => `${c} = ? COLLATE NOCASE` }): Where {
  const w: Where = { sql: [], params: [] };
  if (f.connectorType === 'none') w.sql.push("(connector IS NULL OR connector = '')");
  else if (f.connectorType === 'partner') w.sql.push("connector_type = 'Partner'");
  else if (f.connectorType === 'onpremises') w.sql.push("connector_type = 'OnPremises'");
  if (f.connector) {
    if (f.connector.toLowerCase() === 'none') w.sql.push("(connector IS NULL OR connector = '')");
    else {
      w.sql.push(dialect.equalsNoCase('connector'));
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

type GroupRow = InboundGroup;

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

const COLUMNS_DAY = ['date', 'connector', 'connectorType', 'tls', 'messages', 'accepted', 'rejected'];
const COLUMNS_TOTAL = ['connector', 'connectorType', 'tls', 'messages', 'accepted', 'rejected'];

/** The report from its groups; `emptyNote` is asked for only when the window holds no message. */
function assemble(window: ReportWindow, rows: readonly GroupRow[], emptyNote: string | undefined): Report {
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
  const empty = all === 0 ? emptyNote : undefined;
  return {
    title: 'Inbound messages report',
    window,
    summary: [...(empty ? [empty] : []), `total: ${all} messages (${all - rejected} accepted, ${rejected} rejected)`],
    sections: [
      { name: 'per day', columns: COLUMNS_DAY, rows: finish(perDay) },
      { name: 'total', columns: COLUMNS_TOTAL, rows: finish(total) },
    ],
  };
}

const total0 = (rows: readonly GroupRow[]): boolean => rows.every((r) => r.messages === 0);

/** The Inbound messages report over any trace store (the same result on every adapter). */
export async function inboundReportFrom(store: Pick<TraceStore, 'inboundGroups' | 'hasRows' | 'sourceSpans'>, window: ReportWindow, filter: InboundFilter = {}): Promise<Report> {
  inboundConditions(filter); // the same refusals before any query
  const rows = await store.inboundGroups(window, filter);
  return assemble(window, rows, total0(rows) ? await emptyWindowNoteFrom(store, window, filter.source) : undefined);
}

