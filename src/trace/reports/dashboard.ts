/**
 * @module trace/reports/dashboard
 * The queries behind the web console's dashboard, over the gateway's own trace rows (imports are
 * the audit's business): messages per time bucket by attribution, refusals per bucket by reply
 * code (`550 5.7.68`), the Direct Send sources of the window (a source first seen inside the
 * window is new), and delivery failures and deferrals. Every query is bounded by the window
 * (received_at / at indexes) and the source list by `limit`.
 * The grouping runs in SQL (here for SQLite, stores/postgres for a fleet), the aggregation below is
 * shared, so both give the same dashboard.
 * Touches: reads trace_message and trace_event.
 */
import type { Db } from '../../core/sqlite.ts';
import { traceReady } from '../store.ts';
import type { DashboardFailures, DashboardGroup, DashboardSource, FailureRow, TraceStore } from '../trace-store.ts';

export type { FailureRow } from '../trace-store.ts';

/** Attributions charted on their own; anything else (relay-denied, none) is "other". */
export const DASHBOARD_ATTRIBUTIONS = ['direct-send', 'connector', 'authenticated', 'anonymous-external', 'other'] as const;
export type DashboardAttribution = (typeof DASHBOARD_ATTRIBUTIONS)[number];

export interface DashboardWindow {
  since: number;
  until: number;
  bucketMs: number;
}

export interface TrafficSeries {
  /** Start of each bucket, epoch ms. */
  buckets: number[];
  byAttribution: Record<DashboardAttribution, number[]>;
  /** Refused transactions per bucket, by reply code ("550 5.7.68", "421 4.7.0"); codes ordered by total. */
  refusals: { code: string; counts: number[]; total: number }[];
  totals: Record<DashboardAttribution, number>;
}

export interface DirectSendSourceRow extends DashboardSource {
  /** First Direct Send from this address ever recorded falls inside the window. */
  isNew: boolean;
}

const GATEWAY = "(source IS NULL OR source = 'gateway')";

function bucketCount(w: DashboardWindow): number {
  return Math.max(1, Math.ceil((w.until - w.since) / w.bucketMs));
}

/** "550 5.7.68 TenantInboundAttribution; …" → "550 5.7.68"; "554 …" → "554". */
export function replyCode(reply: string | null): string {
  const m = /^([2-5]\d\d)(?:[ -]([2-5]\.\d{1,3}\.\d{1,3}))?/.exec(reply ?? '');
  if (!m) return 'unknown';
  return m[2] ? `${m[1]} ${m[2]}` : (m[1] ?? 'unknown');
}

/** Messages per bucket by attribution and refusals per bucket by reply code, from the grouped rows. */
export function aggregateTraffic(w: DashboardWindow, rows: readonly DashboardGroup[]): TrafficSeries {
  const n = bucketCount(w);
  const buckets = Array.from({ length: n }, (_, i) => w.since + i * w.bucketMs);
  const byAttribution = Object.fromEntries(DASHBOARD_ATTRIBUTIONS.map((a) => [a, new Array<number>(n).fill(0)])) as Record<DashboardAttribution, number[]>;
  const totals = Object.fromEntries(DASHBOARD_ATTRIBUTIONS.map((a) => [a, 0])) as Record<DashboardAttribution, number>;
  const refusals = new Map<string, number[]>();
  for (const row of rows) {
    const i = Math.min(n - 1, Math.max(0, Math.floor(row.b)));
    const a: DashboardAttribution = (DASHBOARD_ATTRIBUTIONS as readonly string[]).includes(row.a) ? (row.a as DashboardAttribution) : 'other';
    byAttribution[a][i] = (byAttribution[a][i] ?? 0) + row.c;
    totals[a] += row.c;
    if (row.rejected) {
      const code = replyCode(row.r);
      let s = refusals.get(code);
      if (!s) refusals.set(code, (s = new Array<number>(n).fill(0)));
      s[i] = (s[i] ?? 0) + row.c;
    }
  }
  const ref = [...refusals].map(([code, counts]) => ({ code, counts, total: counts.reduce((x, y) => x + y, 0) })).sort((x, y) => y.total - x.total || x.code.localeCompare(y.code));
  return { buckets, byAttribution, refusals: ref, totals };
}

/** The traffic groups of a window over one SQLite handle. */
export function dashboardGroupsSync(db: Db, w: DashboardWindow): DashboardGroup[] {
  if (!traceReady(db)) return [];
  return db
    .prepare(
      `SELECT (received_at - ?) / ? AS b, coalesce(attribution, '') AS a, status = 'Rejected' AS rejected, CASE WHEN status = 'Rejected' THEN substr(reply, 1, 12) END AS r, count(*) AS c
       FROM trace_message WHERE received_at >= ? AND received_at < ? AND ${GATEWAY} GROUP BY 1, 2, 3, 4`,
    )
    .all(w.since, w.bucketMs, w.since, w.until) as DashboardGroup[];
}

/** Messages per bucket by attribution and refusals per bucket by reply code. */
export function dashboardTraffic(db: Db, w: DashboardWindow): TrafficSeries {
  return aggregateTraffic(w, dashboardGroupsSync(db, w));
}

/** The Direct Send sources of a window over one SQLite handle (TraceStore.dashboardSources). */
export function dashboardSourcesSync(db: Db, w: { since: number; until: number }, limit: number): DashboardSource[] {
  if (!traceReady(db)) return [];
  const rows = db
    .prepare(
      `SELECT client_ip AS ip, count(*) AS messages, max(received_at) AS last
       FROM trace_message WHERE attribution = 'direct-send' AND received_at >= ? AND received_at < ? AND ${GATEWAY}
       GROUP BY client_ip ORDER BY messages DESC, ip LIMIT ?`,
    )
    .all(w.since, w.until, limit) as { ip: string; messages: number; last: number }[];
  const latest = db.prepare(
    `SELECT helo, mail_from AS mailFrom, subject FROM trace_message
     WHERE client_ip = ? AND attribution = 'direct-send' AND received_at >= ? AND received_at < ? AND ${GATEWAY} ORDER BY received_at DESC, id DESC LIMIT 1`,
  );
  const first = db.prepare(`SELECT min(received_at) AS t FROM trace_message WHERE client_ip = ? AND attribution = 'direct-send' AND ${GATEWAY}`);
  return rows.map((r) => {
    const m = latest.get(r.ip, w.since, w.until) as { helo: string | null; mailFrom: string | null; subject: string | null };
    return { clientIp: r.ip, helo: m.helo, mailFrom: m.mailFrom, subject: m.subject, messages: r.messages, firstSeen: (first.get(r.ip) as { t: number }).t, lastSeen: r.last };
  });
}

/** A source is new when its first Direct Send ever falls inside the window. */
export const markNew = (w: { since: number }, rows: readonly DashboardSource[]): DirectSendSourceRow[] => rows.map((r) => ({ ...r, isNew: r.firstSeen >= w.since }));

/** The window's Direct Send sources by volume (at most `limit`), each with its first sighting ever. */
export function dashboardDirectSend(db: Db, w: { since: number; until: number }, limit = 50): DirectSendSourceRow[] {
  return markNew(w, dashboardSourcesSync(db, w, limit));
}

/** Delivery failures (FAIL events) and deferrals (DEFER events) in the window, with the latest failures. */
export function dashboardFailures(db: Db, w: { since: number; until: number }, limit = 10): DashboardFailures {
  if (!traceReady(db)) return { failed: 0, deferred: 0, recent: [] };
  const counts = db.prepare(`SELECT event, count(*) AS c FROM trace_event WHERE at >= ? AND at < ? AND event IN ('FAIL', 'DEFER') GROUP BY event`).all(w.since, w.until) as { event: string; c: number }[];
  const recent = db
    .prepare(
      `SELECT e.message_id AS messageId, e.at, e.recipient, e.detail, m.mail_from AS mailFrom, m.subject
       FROM trace_event e LEFT JOIN trace_message m ON m.id = e.message_id
       WHERE e.at >= ? AND e.at < ? AND e.event = 'FAIL' ORDER BY e.at DESC, e.message_id DESC, coalesce(e.recipient, '') DESC LIMIT ?`,
    )
    .all(w.since, w.until, limit) as FailureRow[];
  return { failed: counts.find((c) => c.event === 'FAIL')?.c ?? 0, deferred: counts.find((c) => c.event === 'DEFER')?.c ?? 0, recent };
}

/** The dashboard's traffic, sources and failures read through a TraceStore (a fleet's shared trace). */
export async function dashboardFrom(trace: TraceStore, w: DashboardWindow, limits: { sources?: number; failures?: number } = {}): Promise<{ traffic: TrafficSeries; sources: DirectSendSourceRow[]; failures: DashboardFailures }> {
  const [groups, sources, failures] = await Promise.all([trace.dashboardGroups(w), trace.dashboardSources(w, limits.sources ?? 50), trace.dashboardFailures(w, limits.failures ?? 10)]);
  return { traffic: aggregateTraffic(w, groups), sources: markNew(w, sources), failures };
}
