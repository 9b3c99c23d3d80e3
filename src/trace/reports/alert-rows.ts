/**
 * @module trace/reports/alert-rows
 * What the trace-reading alert rules (alerts/rules/traffic.ts) read, over one SQLite handle: the
 * first Direct Send, new (IP, sender) pairs with whether each was seen before, 5.7.51 refusals by
 * claimed domain, a connector's active days and refusals by reply head. Shared by the rules on one
 * node (synchronous) and the SQLite TraceStore adapter; stores/postgres/trace-alerts has the
 * fleet's spelling of the same rows.
 * Touches: reads trace_message.
 */
import type { Db } from '../../core/sqlite.ts';
import { traceReady } from '../store.ts';
import type { DriftGroup, NewSourceRow } from '../trace-store.ts';

const DAY = 86_400_000;

export interface AlertRowsSync {
  firstDirectSend(): number | undefined;
  newSourceRows(since: number, until: number, limit: number): NewSourceRow[];
  driftGroups(since: number, until: number, limit: number): DriftGroup[];
  connectorDays(connector: string, from: number, until: number): { days: number; after: boolean };
  refusalHeads(since: number, until: number): { head: string | null; n: number }[];
}

/** The alert rules' reads over `db` (empty answers while the trace has no tables). */
export function sqliteAlertRows(db: Db): AlertRowsSync {
  const ready = (): boolean => traceReady(db);
  return {
    firstDirectSend: () => {
      if (!ready()) return undefined;
      return (db.prepare(`SELECT MIN(received_at) AS t FROM trace_message WHERE attribution = 'direct-send'`).get() as { t: number | null }).t ?? undefined;
    },
    newSourceRows: (since, until, limit) => {
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
    driftGroups: (since, until, limit) => {
      if (!ready()) return [];
      return db
        .prepare(
          `SELECT lower(substr(mail_from, instr(mail_from, '@') + 1)) AS domain, COUNT(*) AS n, COUNT(DISTINCT client_ip) AS ips, MAX(received_at) AS last
           FROM trace_message WHERE status = 'Rejected' AND reply LIKE '% 5.7.51 %' AND received_at >= ? AND received_at < ? GROUP BY domain LIMIT ?`,
        )
        .all(since, until, limit) as DriftGroup[];
    },
    connectorDays: (connector, from, until) => {
      if (!ready()) return { days: 0, after: false };
      const d = (db.prepare(`SELECT COUNT(DISTINCT received_at / ${DAY}) AS d FROM trace_message WHERE connector = ? AND received_at >= ? AND received_at < ?`).get(connector, from, until) as { d: number }).d;
      const after = db.prepare(`SELECT 1 FROM trace_message WHERE connector = ? AND received_at >= ? LIMIT 1`).get(connector, until) !== undefined;
      return { days: d, after };
    },
    refusalHeads: (since, until) => {
      if (!ready()) return [];
      return db
        .prepare(`SELECT substr(reply, 1, 14) AS head, COUNT(*) AS n FROM trace_message WHERE status = 'Rejected' AND received_at >= ? AND received_at < ? GROUP BY head`)
        .all(since, until) as Array<{ head: string | null; n: number }>;
    },
  };
}
