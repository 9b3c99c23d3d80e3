/**
 * @module stores/sqlite/trace-reports
 * The report row primitives of the TraceStore interface (trace/trace-store.ts) over one node's
 * SQLite file: what the Direct Send readiness, Inbound messages, stale-allow and egress-gone
 * reports, the audit plan, the dashboard, rule hits, the alert rules and the empty-window note
 * read; the reports themselves aggregate in trace/reports (pure, shared with PostgreSQL). The
 * dashboard and rule-hit queries sit in stores/sqlite/trace-dashboard, the alert rows and the
 * stale-allow traffic groups in stores/sqlite/trace-alerts.
 * Touches: reads trace_message and trace_event.
 */
import type { Db } from '../../core/sqlite.ts';
import { traceReady, type DirectSendRow, type EgressGroups, type InboundFilter, type InboundGroup, type LeftOutCounts, type RowScope, type SourceSpan } from '../../trace/index.ts';
import { DIRECT_SEND_REPLY_LIKE, inboundConditions, type ReportRows } from '../../trace/reports/index.ts';
import { sqliteAlertReads, trafficGroupsSync } from './trace-alerts.ts';
import { dashboardFailuresSync, dashboardGroupsSync, dashboardSourcesSync, ruleEventGroupsSync, ruleHitSamplesSync } from './trace-dashboard.ts';

/** True when trace_message has the column (a read-only store of an older release may lack it). */
function hasColumn(db: Db, name: string): boolean {
  return (db.prepare('PRAGMA table_info(trace_message)').all() as { name: string }[]).some((c) => c.name === name);
}

const scopeArgs = (s: RowScope): (string | number)[] => (s.source === undefined ? [s.since, s.until] : [s.since, s.until, s.source]);
const bySource = (s: RowScope | { source?: string | undefined }): string => (s.source === undefined ? '' : ' AND source = ?');

/** Never a source: no client IP, or Exchange said outbound / intra-org. */
export const ANONYMOUS_SQL = `client_ip <> '' AND listener NOT IN ('exo:outbound', 'exo:intra-org')`;

function* directSendRowsSync(db: Db, scope: RowScope): Generator<DirectSendRow> {
  if (!traceReady(db)) return;
  // Two indexed queries (attribution, received_at) and (status, received_at) rather than one OR.
  const cols = `client_ip, mail_from, received_at, helo, subject, tls_version, recipients, spf, dkim, dmarc, compauth, cert_cn, cert_verified, reply${hasColumn(db, 'exo_verdicts') ? ', exo_verdicts' : ''}`;
  const args = scopeArgs(scope);
  const directSend = db.prepare(`SELECT ${cols} FROM trace_message WHERE attribution = 'direct-send' AND received_at >= ? AND received_at < ? AND ${ANONYMOUS_SQL}${bySource(scope)}`);
  const refused = db.prepare(
    `SELECT ${cols} FROM trace_message WHERE status = 'Rejected' AND received_at >= ? AND received_at < ? AND ${ANONYMOUS_SQL}${bySource(scope)}
       AND reply LIKE '${DIRECT_SEND_REPLY_LIKE}' AND (attribution IS NULL OR attribution <> 'direct-send')`,
  );
  yield* directSend.iterate(...args) as IterableIterator<DirectSendRow>;
  yield* refused.iterate(...args) as IterableIterator<DirectSendRow>;
}

/** The report row primitives over one SQLite handle (synchronous underneath): the SQLite adapter's. */
export function sqliteReportRows(db: Db): ReportRows {
  return {
    directSendRows: (scope) => ({
      [Symbol.asyncIterator]: async function* () {
        yield* directSendRowsSync(db, scope);
      },
    }),
    oldest: async (source) => {
      if (!traceReady(db)) return undefined;
      const r = db.prepare(`SELECT min(received_at) AS t FROM trace_message WHERE 1 = 1${bySource({ source })}`).get(...(source === undefined ? [] : [source])) as { t: number | null };
      return r.t ?? undefined;
    },
    hasRows: async (scope) =>
      traceReady(db) && db.prepare(`SELECT 1 FROM trace_message WHERE received_at >= ? AND received_at < ?${bySource(scope)} LIMIT 1`).get(...scopeArgs(scope)) !== undefined,
    sourceSpans: async (source) => sourceSpansSync(db, source),
    importLeftOut: async (scope): Promise<LeftOutCounts> => {
      if (!traceReady(db)) return { connector: 0, direction: 0, noIp: 0 };
      const r = db
        .prepare(
          `SELECT sum(attribution = 'connector') AS conn, sum(listener IN ('exo:outbound', 'exo:intra-org')) AS dir, sum(client_ip = '' AND listener NOT IN ('exo:outbound', 'exo:intra-org') AND attribution <> 'connector') AS noip
             FROM trace_message WHERE received_at >= ? AND received_at < ? AND listener LIKE 'exo:%'${bySource(scope)}`,
        )
        .get(...scopeArgs(scope)) as { conn: number | null; dir: number | null; noip: number | null };
      return { connector: r.conn ?? 0, direction: r.dir ?? 0, noIp: r.noip ?? 0 };
    },
    inboundGroups: async (window, filter) => inboundGroupsSync(db, window, filter),
    trafficGroups: async (window) => trafficGroupsSync(db, window),
    egressGroups: async (scope, blockAt) => egressGroupsSync(db, scope, blockAt),
    // dashboard, rule hits, alerts
    dashboardGroups: async (w) => dashboardGroupsSync(db, w),
    dashboardSources: async (w, limit) => dashboardSourcesSync(db, w, limit),
    dashboardFailures: async (w, limit) => dashboardFailuresSync(db, w, limit),
    ruleEventGroups: async (since, until) => ruleEventGroupsSync(db, since, until),
    ruleHitSamples: async (rule, mode, since, until, limit) => ruleHitSamplesSync(db, rule, mode, since, until, limit),
    ...sqliteAlertReads(db),
  };
}

/** Rows and first/last time of every source (or one), by source name. */
export function sourceSpansSync(db: Db, source?: string): SourceSpan[] {
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

/** The Inbound messages report's groups (TraceStore.inboundGroups). */
export function inboundGroupsSync(db: Db, window: { since: number; until: number }, filter: InboundFilter): InboundGroup[] {
  const w = inboundConditions(filter);
  if (!traceReady(db)) return [];
  const where = ['received_at >= ?', 'received_at < ?', ...w.sql].join(' AND ');
  return db
    .prepare(
      `SELECT date(received_at / 1000, 'unixepoch') AS day, coalesce(connector, '') AS connector,
              coalesce(connector_type, '') AS connector_type, coalesce(tls_version, '') AS tls_version,
              count(*) AS messages, sum(status = 'Rejected') AS rejected
       FROM trace_message WHERE ${where}
       GROUP BY day, connector, connector_type, tls_version`,
    )
    .all(window.since, window.until, ...w.params) as InboundGroup[];
}

/** Per client IP around the egress block, and its senders by source (TraceStore.egressGroups). */
export function egressGroupsSync(db: Db, scope: RowScope, blockAt: number): EgressGroups {
  if (!traceReady(db)) return { rows: [], detail: [] };
  const bySource = scope.source === undefined ? '' : ' AND source = ?';
  const args = [scope.since, scope.until, ...(scope.source === undefined ? [] : [scope.source])];
  const rows = db
    .prepare(
      `SELECT client_ip, sum(received_at < ?) AS before, sum(received_at >= ?) AS after,
         sum(received_at >= ? AND attribution = 'direct-send' AND coalesce(source, 'gateway') <> 'gateway') AS direct_after,
         max(received_at) AS last
       FROM trace_message WHERE received_at >= ? AND received_at < ?${bySource} GROUP BY client_ip`,
    )
    .all(blockAt, blockAt, blockAt, ...args) as EgressGroups['rows'];
  const detail = db
    .prepare(`SELECT client_ip, lower(coalesce(mail_from, '')) AS sender, coalesce(source, 'gateway') AS src, count(*) AS n FROM trace_message WHERE received_at >= ? AND received_at < ?${bySource} GROUP BY 1, 2, 3 ORDER BY n DESC, sender, src`)
    .all(...args) as EgressGroups['detail'];
  return { rows, detail };
}
