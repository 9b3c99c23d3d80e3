/**
 * @module stores/postgres/trace-alerts
 * What the trace-reading alert rules read, in PostgreSQL's spelling over the fleet's trace: the
 * same rows as stores/sqlite/trace-alerts, so a fleet's alerts are about every node's
 * traffic ("new" meaning new to the fleet).
 * Touches: reads trace_message of one schema.
 */
import type { DriftGroup, NewSourceRow, TraceStore } from '../../trace/index.ts';

type Query = <R extends object>(text: string, values: unknown[]) => Promise<R[]>;
export type AlertReads = Pick<TraceStore, 'firstDirectSend' | 'newSourceRows' | 'driftGroups' | 'connectorDays' | 'refusalHeads'>;

const DAY = 86_400_000;

/** The alert rules' reads over `query` on the trace tables of schema `s` (quoted). */
export function pgAlertReads(query: Query, s: string): AlertReads {
  return {
    firstDirectSend: async () => (await query<{ t: number | null }>(`SELECT min(received_at) AS t FROM ${s}.trace_message WHERE attribution = 'direct-send'`, []))[0]?.t ?? undefined,
    newSourceRows: (since, until, limit) =>
      // Senders are looked up through the lower(mail_from) index, then compared exactly (as SQLite does).
      query<NewSourceRow>(
        `SELECT g.ip, g.sender, g.at, g.n,
                EXISTS (SELECT 1 FROM ${s}.trace_message p WHERE p.attribution = 'direct-send' AND p.client_ip = g.ip AND p.received_at < g.at) AS "ipSeen",
                coalesce(g.sender <> '', false) AND EXISTS (
                  SELECT 1 FROM ${s}.trace_message p WHERE p.attribution = 'direct-send' AND lower(p.mail_from) = lower(g.sender) AND p.mail_from = g.sender AND p.received_at < g.at
                ) AS "senderSeen"
           FROM (SELECT client_ip AS ip, mail_from AS sender, min(received_at) AS at, count(*)::int AS n FROM ${s}.trace_message
                  WHERE attribution = 'direct-send' AND received_at >= $1 AND received_at < $2
                  GROUP BY 1, 2 ORDER BY min(received_at), client_ip, mail_from COLLATE "C" NULLS FIRST LIMIT $3) g
          ORDER BY g.at, g.ip, g.sender COLLATE "C" NULLS FIRST`,
        [since, until, limit],
      ),
    driftGroups: (since, until, limit) =>
      query<DriftGroup>(
        `SELECT lower(substr(mail_from, strpos(mail_from, '@') + 1)) AS domain, count(*)::int AS n, count(DISTINCT client_ip)::int AS ips, max(received_at) AS last
           FROM ${s}.trace_message WHERE status = 'Rejected' AND reply LIKE '% 5.7.51 %' AND received_at >= $1 AND received_at < $2 GROUP BY 1 LIMIT $3`,
        [since, until, limit],
      ),
    connectorDays: async (connector, from, until) => {
      const [r] = await query<{ days: number; after: boolean }>(
        `SELECT (SELECT count(DISTINCT received_at / ${DAY})::int FROM ${s}.trace_message WHERE connector = $1 AND received_at >= $2 AND received_at < $3) AS days,
                EXISTS (SELECT 1 FROM ${s}.trace_message WHERE connector = $1 AND received_at >= $3) AS after`,
        [connector, from, until],
      );
      return r ?? { days: 0, after: false };
    },
    refusalHeads: (since, until) =>
      query<{ head: string | null; n: number }>(
        `SELECT substr(reply, 1, 14) AS head, count(*)::int AS n FROM ${s}.trace_message WHERE status = 'Rejected' AND received_at >= $1 AND received_at < $2 GROUP BY 1`,
        [since, until],
      ),
  };
}
