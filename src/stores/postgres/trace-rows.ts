/**
 * @module stores/postgres/trace-rows
 * The report row primitives of the TraceStore interface in PostgreSQL's spelling: the same rows
 * and counts as stores/sqlite/trace-reports, so trace/reports aggregates them to the same report.
 * Touches: reads trace_message of one schema.
 */
import type { DirectSendRow, EgressGroups, InboundGroup, LeftOutCounts, RowScope, SourceSpan, TraceStore, TrafficGroups } from '../../trace/index.ts';
import { DIRECT_SEND_REPLY_LIKE, inboundConditions } from '../../trace/reports/index.ts';

/** `?` placeholders → `$n`, numbered from `from`. */
function numbered(sql: string, from = 1): string {
  let n = from - 1;
  return sql.replace(/\?/g, () => `$${++n}`);
}

const DAY_SQL = `to_char(to_timestamp(received_at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;

type Query = <R extends object>(text: string, values: unknown[]) => Promise<R[]>;
type ReportRows = Pick<TraceStore, 'directSendRows' | 'oldest' | 'hasRows' | 'sourceSpans' | 'importLeftOut' | 'inboundGroups' | 'trafficGroups' | 'egressGroups'>;

const ANONYMOUS = `client_ip <> '' AND listener NOT IN ('exo:outbound', 'exo:intra-org')`;
const COLS = 'client_ip, mail_from, received_at, helo, subject, tls_version, recipients, spf, dkim, dmarc, compauth, cert_cn, cert_verified, reply, exo_verdicts';

/** Rows per page of a streamed read. */
const PAGE = 5000;

const scopeArgs = (sc: RowScope): unknown[] => (sc.source === undefined ? [sc.since, sc.until] : [sc.since, sc.until, sc.source]);
const bySource = (sc: { source?: string | undefined }, n: number): string => (sc.source === undefined ? '' : ` AND source = $${n}`);

/** The row primitives over `query` on the trace tables of schema `s` (quoted). */
export function pgReportRows(query: Query, s: string): ReportRows {
  return {
    directSendRows: (sc) => ({
      [Symbol.asyncIterator]: async function* () {
        // The same two queries (and order) as SQLite's: direct-send rows, then 5.7.68 refusals;
        // each in keyset pages of time and id, so a 90-day window never sits in memory at once.
        const refused = `status = 'Rejected' AND reply LIKE '${DIRECT_SEND_REPLY_LIKE}' AND (attribution IS NULL OR attribution <> 'direct-send')`;
        for (const which of [`attribution = 'direct-send'`, refused]) {
          let after: [number, string] = [-Infinity, ''];
          for (;;) {
            const args = [...scopeArgs(sc), after[0] === -Infinity ? sc.since - 1 : after[0], after[1]];
            const n = args.length;
            const page = await query<DirectSendRow & { id: string }>(
              `SELECT ${COLS}, id FROM ${s}.trace_message
                WHERE ${which} AND received_at >= $1 AND received_at < $2 AND ${ANONYMOUS}${bySource(sc, 3)} AND (received_at, id) > ($${n - 1}, $${n})
                ORDER BY received_at, id LIMIT ${PAGE}`,
              args,
            );
            for (const r of page) yield r;
            const last = page[page.length - 1];
            if (page.length < PAGE || !last) break;
            after = [last.received_at, last.id];
          }
        }
      },
    }),
    oldest: async (source) => {
      const [r] = await query<{ t: number | null }>(`SELECT min(received_at) AS t FROM ${s}.trace_message WHERE true${bySource({ source }, 1)}`, source === undefined ? [] : [source]);
      return r?.t ?? undefined;
    },
    hasRows: async (sc) => (await query(`SELECT 1 FROM ${s}.trace_message WHERE received_at >= $1 AND received_at < $2${bySource(sc, 3)} LIMIT 1`, scopeArgs(sc))).length > 0,
    sourceSpans: async (source) =>
      query<SourceSpan>(
        `SELECT coalesce(source, 'gateway') AS source, count(*)::int AS rows, min(received_at) AS first, max(received_at) AS last
           FROM ${s}.trace_message WHERE true${bySource({ source }, 1)} GROUP BY 1 ORDER BY coalesce(source, 'gateway') COLLATE "C"`,
        source === undefined ? [] : [source],
      ),
    importLeftOut: async (sc): Promise<LeftOutCounts> => {
      const [r] = await query<LeftOutCounts>(
        `SELECT count(*) FILTER (WHERE attribution = 'connector')::int AS connector,
                count(*) FILTER (WHERE listener IN ('exo:outbound', 'exo:intra-org'))::int AS direction,
                count(*) FILTER (WHERE client_ip = '' AND listener NOT IN ('exo:outbound', 'exo:intra-org') AND attribution <> 'connector')::int AS "noIp"
           FROM ${s}.trace_message WHERE received_at >= $1 AND received_at < $2 AND listener LIKE 'exo:%'${bySource(sc, 3)}`,
        scopeArgs(sc),
      );
      return r ?? { connector: 0, direction: 0, noIp: 0 };
    },
    inboundGroups: async (w, filter) => {
      const c = inboundConditions(filter, { equalsNoCase: (col) => `lower(${col}) = lower(?)` });
      const where = ['received_at >= ?', 'received_at < ?', ...c.sql].join(' AND ');
      return query<InboundGroup>(
        numbered(`SELECT ${DAY_SQL} AS day, coalesce(connector, '') AS connector, coalesce(connector_type, '') AS connector_type,
                  coalesce(tls_version, '') AS tls_version, count(*)::int AS messages, count(*) FILTER (WHERE status = 'Rejected')::int AS rejected
             FROM ${s}.trace_message WHERE ${where} GROUP BY 1, 2, 3, 4`),
        [w.since, w.until, ...c.params],
      );
    },
    trafficGroups: async (w): Promise<TrafficGroups> => {
      const range = [w.since, w.until];
      const [byConnIp, byIp, byDomain] = await Promise.all([
        query<TrafficGroups['byConnIp'][number]>(`SELECT connector, client_ip, count(*)::int AS n, max(received_at) AS last FROM ${s}.trace_message WHERE received_at >= $1 AND received_at < $2 AND connector IS NOT NULL GROUP BY connector, client_ip`, range),
        query<TrafficGroups['byIp'][number]>(`SELECT client_ip, count(*)::int AS n, max(received_at) AS last FROM ${s}.trace_message WHERE received_at >= $1 AND received_at < $2 GROUP BY client_ip`, range),
        query<TrafficGroups['byDomain'][number]>(
          `SELECT lower(substr(mail_from, strpos(mail_from, '@') + 1)) AS d, count(*)::int AS n, max(received_at) AS last FROM ${s}.trace_message WHERE received_at >= $1 AND received_at < $2 AND strpos(mail_from, '@') > 0 GROUP BY 1`,
          range,
        ),
      ]);
      return { byConnIp, byIp, byDomain };
    },
    egressGroups: async (sc, blockAt): Promise<EgressGroups> => {
      const args = scopeArgs(sc);
      const [rows, detail] = await Promise.all([
        query<EgressGroups['rows'][number]>(
          `SELECT client_ip, count(*) FILTER (WHERE received_at < $${args.length + 1})::int AS before, count(*) FILTER (WHERE received_at >= $${args.length + 1})::int AS after,
                  count(*) FILTER (WHERE received_at >= $${args.length + 1} AND attribution = 'direct-send' AND coalesce(source, 'gateway') <> 'gateway')::int AS direct_after,
                  max(received_at) AS last
             FROM ${s}.trace_message WHERE received_at >= $1 AND received_at < $2${bySource(sc, 3)} GROUP BY client_ip`,
          [...args, blockAt],
        ),
        query<EgressGroups['detail'][number]>(
          `SELECT client_ip, lower(coalesce(mail_from, '')) AS sender, coalesce(source, 'gateway') AS src, count(*)::int AS n
             FROM ${s}.trace_message WHERE received_at >= $1 AND received_at < $2${bySource(sc, 3)} GROUP BY 1, 2, 3 ORDER BY n DESC, lower(coalesce(mail_from, '')) COLLATE "C", coalesce(source, 'gateway') COLLATE "C"`,
          args,
        ),
      ]);
      return { rows, detail };
    },
  };
}

/** TraceStore.rowCount over `query` (the audit plan's rows in the window). */
export function pgRowCount(query: Query, s: string): TraceStore['rowCount'] {
  return async (sc) => {
    const [r] = await query<{ n: number }>(`SELECT count(*)::int AS n FROM ${s}.trace_message WHERE received_at >= $1 AND received_at < $2${bySource(sc, 3)}`, scopeArgs(sc));
    return r?.n ?? 0;
  };
}
