/**
 * @module trace/reports/sqlite-rows
 * The report row primitives of the TraceStore interface (trace-store.ts) over a SQLite handle:
 * what the Direct Send readiness, Inbound messages, stale-allow and egress-gone reports, the
 * dashboard, rule hits, the alert rules and the empty-window note read (the grouped queries of the last three sit beside their reports, shared
 * with their synchronous callers). The SQLite adapter
 * (stores/sqlite/trace-store.ts) and the synchronous callers that still hand a Db share it.
 * Touches: reads trace_message.
 */
import type { Db } from '../../core/sqlite.ts';
import { traceReady } from '../store.ts';
import type { DirectSendRow, LeftOutCounts, RowScope, TraceStore } from '../trace-store.ts';
import { DIRECT_SEND_REPLY_LIKE } from './common.ts';
import { sourceSpans } from './coverage.ts';
import { sqliteAlertRows } from './alert-rows.ts';
import { dashboardFailures, dashboardGroupsSync, dashboardSourcesSync } from './dashboard.ts';
import { egressGroupsSync } from './egress-gone.ts';
import { ruleEventGroupsSync, ruleHitSamples } from './rule-hits.ts';
import { inboundGroupsSync } from './inbound.ts';
import { trafficGroupsSync } from './stale-allow.ts';

/** The row primitives reports use. */
export type ReportRows = Pick<TraceStore, 'directSendRows' | 'oldest' | 'hasRows' | 'sourceSpans' | 'importLeftOut' | 'inboundGroups' | 'trafficGroups' | 'egressGroups' | DashboardRows>;

/** The dashboard, rule-hit and alert reads (one block, like the interface's). */
export type DashboardRows =
  | 'dashboardGroups'
  | 'dashboardSources'
  | 'dashboardFailures'
  | 'ruleEventGroups'
  | 'ruleHitSamples'
  | 'firstDirectSend'
  | 'newSourceRows'
  | 'driftGroups'
  | 'connectorDays'
  | 'refusalHeads';

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

/** The report row primitives over one SQLite handle (synchronous underneath). */
export function sqliteReportRows(db: Db): ReportRows {
  const alerts = sqliteAlertRows(db);
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
    sourceSpans: async (source) => sourceSpans(db, source),
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
    dashboardFailures: async (w, limit) => dashboardFailures(db, w, limit),
    ruleEventGroups: async (since, until) => ruleEventGroupsSync(db, since, until),
    ruleHitSamples: async (rule, mode, since, until, limit) => ruleHitSamples(db, rule, mode, since, until, limit),
    firstDirectSend: async () => alerts.firstDirectSend(),
    newSourceRows: async (since, until, limit) => alerts.newSourceRows(since, until, limit),
    driftGroups: async (since, until, limit) => alerts.driftGroups(since, until, limit),
    connectorDays: async (connector, from, until) => alerts.connectorDays(connector, from, until),
    refusalHeads: async (since, until) => alerts.refusalHeads(since, until),
  };
}
