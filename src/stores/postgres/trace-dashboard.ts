/**
 * @module stores/postgres/trace-dashboard
 * The console's reads of the TraceStore interface in PostgreSQL's spelling: the dashboard's groups,
 * sources and failures and the transport rule hits (RULE events), the same rows in the same order
 * (ties included) as stores/sqlite/trace-dashboard, so trace/reports/dashboard and rule-hits
 * aggregate them to the same dashboard and hits for the whole fleet.
 * Touches: reads trace_message and trace_event of one schema.
 */
import type { DashboardFailures, DashboardGroup, DashboardSource, FailureRow, RuleEventGroup, RuleHitSample, TraceStore } from '../../trace/index.ts';
import { matchRuleHit, ruleLikePattern } from '../../trace/reports/index.ts';

type Query = <R extends object>(text: string, values: unknown[]) => Promise<R[]>;
export type DashboardReads = Pick<TraceStore, 'dashboardGroups' | 'dashboardSources' | 'dashboardFailures' | 'ruleEventGroups' | 'ruleHitSamples'>;

/** RULE events per page while samples are matched. */
const PAGE = 500;

const GATEWAY = "(source IS NULL OR source = 'gateway')";

/** The dashboard reads over `query` on the trace tables of schema `s` (quoted). */
export function pgDashboardReads(query: Query, s: string): DashboardReads {
  return {
    dashboardGroups: (w) =>
      query<DashboardGroup>(
        `SELECT (received_at - $1) / $2 AS b, coalesce(attribution, '') AS a, (status = 'Rejected')::int AS rejected,
                CASE WHEN status = 'Rejected' THEN substr(reply, 1, 12) END AS r, count(*)::int AS c
           FROM ${s}.trace_message WHERE received_at >= $1 AND received_at < $3 AND ${GATEWAY} GROUP BY 1, 2, 3, 4`,
        [w.since, w.bucketMs, w.until],
      ),
    dashboardSources: async (w, limit): Promise<DashboardSource[]> => {
      const top = await query<{ ip: string; messages: number; last: number }>(
        `SELECT client_ip AS ip, count(*)::int AS messages, max(received_at) AS last
           FROM ${s}.trace_message WHERE attribution = 'direct-send' AND received_at >= $1 AND received_at < $2 AND ${GATEWAY}
          GROUP BY client_ip ORDER BY messages DESC, ip LIMIT $3`,
        [w.since, w.until, limit],
      );
      if (top.length === 0) return [];
      const ips = top.map((r) => r.ip);
      const [latest, first] = await Promise.all([
        query<{ ip: string; helo: string | null; mailFrom: string | null; subject: string | null }>(
          `SELECT DISTINCT ON (client_ip) client_ip AS ip, helo, mail_from AS "mailFrom", subject
             FROM ${s}.trace_message WHERE attribution = 'direct-send' AND received_at >= $1 AND received_at < $2 AND ${GATEWAY} AND client_ip = ANY($3)
            ORDER BY client_ip, received_at DESC, id DESC`,
          [w.since, w.until, ips],
        ),
        query<{ ip: string; t: number }>(
          `SELECT client_ip AS ip, min(received_at) AS t FROM ${s}.trace_message WHERE attribution = 'direct-send' AND ${GATEWAY} AND client_ip = ANY($1) GROUP BY client_ip`,
          [ips],
        ),
      ]);
      const latestOf = new Map(latest.map((r) => [r.ip, r]));
      const firstOf = new Map(first.map((r) => [r.ip, r.t]));
      return top.map((r) => {
        const m = latestOf.get(r.ip);
        return { clientIp: r.ip, helo: m?.helo ?? null, mailFrom: m?.mailFrom ?? null, subject: m?.subject ?? null, messages: r.messages, firstSeen: firstOf.get(r.ip) ?? r.last, lastSeen: r.last };
      });
    },
    dashboardFailures: async (w, limit): Promise<DashboardFailures> => {
      const [counts, recent] = await Promise.all([
        query<{ event: string; c: number }>(`SELECT event, count(*)::int AS c FROM ${s}.trace_event WHERE at >= $1 AND at < $2 AND event IN ('FAIL', 'DEFER') GROUP BY event`, [w.since, w.until]),
        // A message id is one row (its latest version, should a retried write have moved its time).
        query<FailureRow>(
          `SELECT e.message_id AS "messageId", e.at, e.recipient, e.detail, m.mail_from AS "mailFrom", m.subject
             FROM ${s}.trace_event e
             LEFT JOIN LATERAL (SELECT mail_from, subject FROM ${s}.trace_message WHERE id = e.message_id ORDER BY received_at DESC LIMIT 1) m ON true
            WHERE e.at >= $1 AND e.at < $2 AND e.event = 'FAIL' ORDER BY e.at DESC, e.message_id DESC, coalesce(e.recipient, '') COLLATE "C" DESC LIMIT $3`,
          [w.since, w.until, limit],
        ),
      ]);
      return { failed: counts.find((c) => c.event === 'FAIL')?.c ?? 0, deferred: counts.find((c) => c.event === 'DEFER')?.c ?? 0, recent };
    },
      ruleEventGroups: (since, until) =>
      query<RuleEventGroup>(`SELECT detail, count(*)::int AS n, max(at) AS last FROM ${s}.trace_event WHERE event = 'RULE' AND at >= $1 AND at < $2 GROUP BY detail`, [since, until]),
    ruleHitSamples: async (rule, mode, since, until, limit): Promise<RuleHitSample[]> => {
      const out: RuleHitSample[] = [];
      // Keyset pages of (at, node, seq) descending; ILIKE as SQLite's LIKE folds case, the parsed detail decides.
      let after: [number, string, number] | undefined;
      for (;;) {
        const args: unknown[] = [since, until, ruleLikePattern(rule, mode), ...(after ?? [])];
        const keyset = after ? ' AND (e.at, e.node, e.seq) < ($4, $5, $6)' : '';
        const page = await query<Record<string, string | number | null> & { node: string; seq: number }>(
          `SELECT e.message_id AS id, e.at, e.detail, e.node, e.seq, m.client_ip AS "clientIp", m.mail_from AS "mailFrom", m.header_from AS "headerFrom", m.subject, m.attribution
             FROM ${s}.trace_event e
             LEFT JOIN LATERAL (SELECT client_ip, mail_from, header_from, subject, attribution FROM ${s}.trace_message WHERE id = e.message_id ORDER BY received_at DESC LIMIT 1) m ON true
            WHERE e.event = 'RULE' AND e.at >= $1 AND e.at < $2 AND e.detail ILIKE $3 ESCAPE '\\'${keyset}
            ORDER BY e.at DESC, e.node DESC, e.seq DESC LIMIT ${PAGE}`,
          args,
        );
        for (const r of page) {
          const hit = matchRuleHit(r, rule, mode);
          if (!hit) continue;
          out.push(hit);
          if (out.length >= limit) return out;
        }
        const last = page[page.length - 1];
        if (page.length < PAGE || !last) return out;
        after = [Number(last.at), last.node, Number(last.seq)];
      }
    },
  };
}
