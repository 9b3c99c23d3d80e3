/**
 * @module audit/inbound-report
 * The EAC Inbound messages report ("Connector report details": Date, Connector direction and name,
 * Connector type, Forced TLS?, No TLS, TLS 1.0, TLS 1.1, TLS 1.2, Volume) is an aggregate — counts
 * per day and connector, no message, sender or IP — so it cannot become trace messages. Its rows
 * are kept as they are in `audit_inbound_report` (one row per import, day, connector direction and
 * name, and connector type; re-import replaces them) and summarised in the migration plan: the
 * volume that arrived without a connector is the volume RejectDirectSend and the transport rule act on.
 * Counts may be written as "1,234" or percentages ("12%"): digits are kept, the rest dropped.
 * Touches: the audit_inbound_report table.
 */
import type { Db } from '../core/sqlite.ts';
import { first, type Getter } from './map-rows.ts';
import { parseExoTime } from './time.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_inbound_report (
  import_name TEXT NOT NULL,
  day TEXT NOT NULL,
  connector TEXT NOT NULL,
  connector_type TEXT NOT NULL,
  forced_tls TEXT,
  no_tls REAL,
  tls10 REAL,
  tls11 REAL,
  tls12 REAL,
  volume REAL NOT NULL,
  PRIMARY KEY (import_name, day, connector, connector_type)
)`;

export function ensureInboundReportSchema(db: Db): void {
  db.exec(SCHEMA);
}

export interface InboundReportRow {
  day: string;
  connector: string;
  connectorType: string;
  forcedTls: string;
  noTls: number | null;
  tls10: number | null;
  tls11: number | null;
  tls12: number | null;
  volume: number;
}

function num(s: string): number | null {
  const t = s.replace(/[^0-9.]/g, '');
  return t === '' ? null : Number(t);
}

/** Map one report row, or return why it is malformed. */
export function mapInboundReport(get: Getter): InboundReportRow | string {
  const d = get('date').trim();
  const at = parseExoTime(d);
  if (at === undefined) return `unreadable Date "${d}"`;
  const volume = num(get('volume'));
  if (volume === null) return `no Volume`;
  return {
    day: new Date(at).toISOString().slice(0, 10),
    connector: first(get, 'connectordirectionandname', 'connectorname', 'connectordirection'),
    connectorType: get('connectortype').trim(),
    forcedTls: first(get, 'forcedtls'),
    noTls: num(get('notls')),
    tls10: num(get('tls10')),
    tls11: num(get('tls11')),
    tls12: num(get('tls12')),
    volume,
  };
}

/** Insert or replace report rows of an import; returns the count written. */
export function storeInboundReport(db: Db, name: string, rows: readonly InboundReportRow[]): number {
  ensureInboundReportSchema(db);
  const st = db.prepare(
    `INSERT OR REPLACE INTO audit_inbound_report (import_name, day, connector, connector_type, forced_tls, no_tls, tls10, tls11, tls12, volume)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (const r of rows) st.run(name, r.day, r.connector, r.connectorType, r.forcedTls, r.noTls, r.tls10, r.tls11, r.tls12, r.volume);
  })();
  return rows.length;
}

export interface InboundVolume {
  connectorType: string;
  connector: string;
  days: number;
  volume: number;
  noTls: number;
}

/** Volume per connector over the stored report rows (of one import, or all), biggest first. */
export function inboundVolumes(db: Db, name?: string): InboundVolume[] {
  ensureInboundReportSchema(db);
  const where = name ? 'WHERE import_name = ?' : '';
  const rows = db
    .prepare(
      `SELECT connector_type AS connectorType, connector, count(DISTINCT day) AS days, sum(volume) AS volume, coalesce(sum(no_tls), 0) AS noTls
       FROM audit_inbound_report ${where} GROUP BY connector_type, connector ORDER BY volume DESC, connector`,
    )
    .all(...(name ? [name] : [])) as InboundVolume[];
  return rows;
}
