/**
 * @module stores/sqlite/trace-alerts
 * What the trace-reading alert rules (alerts/rules/traffic.ts, state.ts) read, in SQLite's
 * spelling over one node's file: the first Direct Send, new (IP, sender) pairs with whether each
 * was seen before, 5.7.51 refusals by claimed domain, a connector's active days, refusals by reply
 * head, and the stale-allow report's traffic groups. stores/postgres/trace-alerts has the fleet's
 * spelling of the same rows. Empty answers while the trace has no tables.
 * Touches: reads trace_message.
 */
import type { Db } from '../../core/sqlite.ts';
import { traceReady, type DriftGroup, type TraceStore, type TrafficGroups } from '../../trace/index.ts';

const DAY = 86_400_000;

export type AlertReads = Pick<TraceStore, 'firstDirectSend' | 'newSourceRows' | 'driftGroups' | 'connectorDays' | 'refusalHeads'>;

/** The alert rules' reads over `db` (synchronous underneath). */
export function sqliteAlertReads(db: Db): AlertReads {
  const ready = (): boolean => traceReady(db);
  return {
    firstDirectSend: async () => {
      if (!ready()) return undefined;
      return (db.prepare(`SELECT MIN(received_at) AS t FROM trace_message WHERE attribution = 'direct-send'`).get() as { t: number | null }).t ?? undefined;
    },
    newSourceRows: async (since, until, limit) => {
      if (!ready()) return [];
      const fresh = db
        .prepare(
          `SELECT client_ip AS ip, mail_from AS sender, MIN(received_at) AS at, COUNT(*) AS n FROM trace_message
           WHERE attribution = 'direct-send' AND received_at >= ? AND received_at < ? GROUP BY client_ip, mail_from ORDER BY at, ip, sender LIMIT ?`,
        )
        .all(since, until, limit) as Array<{ ip: string; sender: string | null; at: number; n: number }>;
      const seenIp = db.prepare(`SELECT 1 FROM trace_message WHERE attribution = 'direct-send' AND client_ip = ? AND received_at < ? LIMIT 1`);
      const seenSender = db.prepare(`SELECT 1 FROM trace_message WHERE attribution = 'direct-send' AND mail_from = ? AND received_at < ? LIMIT 1`);
      return fresh.map((r) => ({ ...r, ipSeen: seenIp.get(r.ip, r.at) !== undefined, senderSeen: !!r.sender && seenSender.get(r.sender, r.at) !== undefined }));
    },
    driftGroups: async (since, until, limit) => {
      if (!ready()) return [];
      return db
        .prepare(
          `SELECT lower(substr(mail_from, instr(mail_from, '@') + 1)) AS domain, COUNT(*) AS n, COUNT(DISTINCT client_ip) AS ips, MAX(received_at) AS last
           FROM trace_message WHERE status = 'Rejected' AND reply LIKE '% 5.7.51 %' AND received_at >= ? AND received_at < ? GROUP BY domain LIMIT ?`,
        )
        .all(since, until, limit) as DriftGroup[];
    },
    connectorDays: async (connector, from, until) => {
      if (!ready()) return { days: 0, after: false };
      const d = (db.prepare(`SELECT COUNT(DISTINCT received_at / ${DAY}) AS d FROM trace_message WHERE connector = ? AND received_at >= ? AND received_at < ?`).get(connector, from, until) as { d: number }).d;
      const after = db.prepare(`SELECT 1 FROM trace_message WHERE connector = ? AND received_at >= ? LIMIT 1`).get(connector, until) !== undefined;
      return { days: d, after };
    },
    refusalHeads: async (since, until) => {
      if (!ready()) return [];
      return db
        .prepare(`SELECT substr(reply, 1, 14) AS head, COUNT(*) AS n FROM trace_message WHERE status = 'Rejected' AND received_at >= ? AND received_at < ? GROUP BY head`)
        .all(since, until) as Array<{ head: string | null; n: number }>;
    },
  };
}

/** Traffic per connector and client IP; per client IP; per MAIL FROM domain (one pass each, grouped in SQL): TraceStore.trafficGroups. */
export function trafficGroupsSync(db: Db, window: { since: number; until: number }): TrafficGroups {
  if (!traceReady(db)) return { byConnIp: [], byIp: [], byDomain: [] };
  const range = [window.since, window.until];
  return {
    byConnIp: db.prepare('SELECT connector, client_ip, count(*) AS n, max(received_at) AS last FROM trace_message WHERE received_at >= ? AND received_at < ? AND connector IS NOT NULL GROUP BY connector, client_ip').all(...range) as TrafficGroups['byConnIp'],
    byIp: db.prepare('SELECT client_ip, count(*) AS n, max(received_at) AS last FROM trace_message WHERE received_at >= ? AND received_at < ? GROUP BY client_ip').all(...range) as TrafficGroups['byIp'],
    byDomain: db
      .prepare("SELECT lower(substr(mail_from, instr(mail_from, '@') + 1)) AS d, count(*) AS n, max(received_at) AS last FROM trace_message WHERE received_at >= ? AND received_at < ? AND instr(mail_from, '@') > 0 GROUP BY d")
      .all(...range) as TrafficGroups['byDomain'],
  };
}
