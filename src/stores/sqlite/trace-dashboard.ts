/**
 * @module stores/sqlite/trace-dashboard
 * The dashboard's and the rule hits' reads of the TraceStore interface over one node's SQLite
 * file: traffic groups, Direct Send sources, delivery failures, RULE events by detail and the
 * messages one rule hit. trace/reports/dashboard and rule-hits aggregate them (shared with
 * PostgreSQL, stores/postgres/trace-dashboard).
 * Touches: reads trace_message and trace_event.
 */
import type { Db } from '../../core/sqlite.ts';
import { traceReady, type DashboardFailures, type DashboardGroup, type DashboardSource, type FailureRow, type RuleEventGroup, type RuleHitSample } from '../../trace/index.ts';
import { matchRuleHit, ruleLikePattern, type DashboardWindow } from '../../trace/reports/index.ts';

/** Gateway rows only (imports have their own reports). */
const GATEWAY = "(source IS NULL OR source = 'gateway')";

type SampleRecord = Record<string, string | number | null | undefined>;

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

/** Delivery failures (FAIL events) and deferrals (DEFER events) in the window, with the latest failures. */
export function dashboardFailuresSync(db: Db, w: { since: number; until: number }, limit: number): DashboardFailures {
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

/** RULE events of [since, until) grouped by detail, over one SQLite handle. */
export function ruleEventGroupsSync(db: Db, since: number, until: number): RuleEventGroup[] {
  if (!traceReady(db)) return [];
  return db
    .prepare("SELECT detail, COUNT(*) AS n, MAX(at) AS last FROM trace_event WHERE event = 'RULE' AND at >= ? AND at < ? GROUP BY detail")
    .all(since, until) as RuleEventGroup[];
}

/** The latest `limit` messages rule `rule` hit in `mode` in [since, until), newest first (ties: the latest written). */
export function ruleHitSamplesSync(db: Db, rule: string, mode: string, since: number, until: number, limit: number): RuleHitSample[] {
  if (!traceReady(db)) return [];
  const rows = db
    .prepare(
      `SELECT e.message_id AS id, e.at AS at, e.detail AS detail, m.client_ip AS clientIp, m.mail_from AS mailFrom, m.header_from AS headerFrom, m.subject AS subject, m.attribution AS attribution
       FROM trace_event e LEFT JOIN trace_message m ON m.id = e.message_id
       WHERE e.event = 'RULE' AND e.at >= ? AND e.at < ? AND e.detail LIKE ? ESCAPE '\\'
       ORDER BY e.at DESC, e.id DESC`,
    )
    .iterate(since, until, ruleLikePattern(rule, mode)) as IterableIterator<SampleRecord>;
  const out: RuleHitSample[] = [];
  for (const r of rows) {
    const hit = matchRuleHit(r, rule, mode);
    if (!hit) continue;
    out.push(hit);
    if (out.length >= limit) break;
  }
  return out;
}
