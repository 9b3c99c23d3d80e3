/**
 * @module stores/postgres/trace-rows
 * The report row primitives of the TraceStore interface in PostgreSQL's spelling: the same rows
 * and counts as trace/reports/sqlite-rows, so trace/reports aggregates them to the same report.
 * Touches: reads trace_message of one schema.
 */
import type { DirectSendRow, LeftOutCounts, RowScope, SourceSpan, TraceStore } from '../../trace/index.ts';
import { DIRECT_SEND_REPLY_LIKE } from '../../trace/reports/index.ts';

type Query = <R extends object>(text: string, values: unknown[]) => Promise<R[]>;
type ReportRows = Pick<TraceStore, 'directSendRows' | 'oldest' | 'hasRows' | 'sourceSpans' | 'importLeftOut'>;

const ANONYMOUS = `client_ip <> '' AND listener NOT IN ('exo:outbound', 'exo:intra-org')`;
const COLS = 'client_ip, mail_from, received_at, helo, subject, tls_version, recipients, spf, dkim, dmarc, compauth, cert_cn, cert_verified, reply, exo_verdicts';

const scopeArgs = (sc: RowScope): unknown[] => (sc.source === undefined ? [sc.since, sc.until] : [sc.since, sc.until, sc.source]);
const bySource = (sc: { source?: string | undefined }, n: number): string => (sc.source === undefined ? '' : ` AND source = $${n}`);

/** The row primitives over `query` on the trace tables of schema `s` (quoted). */
export function pgReportRows(query: Query, s: string): ReportRows {
  return {
    directSendRows: (sc) => ({
      [Symbol.asyncIterator]: async function* () {
        const args = scopeArgs(sc);
        // The same two queries (and order) as SQLite's: direct-send rows, then 5.7.68 refusals.
        yield* await query<DirectSendRow>(`SELECT ${COLS} FROM ${s}.trace_message WHERE attribution = 'direct-send' AND received_at >= $1 AND received_at < $2 AND ${ANONYMOUS}${bySource(sc, 3)}`, args);
        yield* await query<DirectSendRow>(
          `SELECT ${COLS} FROM ${s}.trace_message WHERE status = 'Rejected' AND received_at >= $1 AND received_at < $2 AND ${ANONYMOUS}${bySource(sc, 3)}
             AND reply LIKE '${DIRECT_SEND_REPLY_LIKE}' AND (attribution IS NULL OR attribution <> 'direct-send')`,
          args,
        );
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
           FROM ${s}.trace_message WHERE true${bySource({ source }, 1)} GROUP BY 1 ORDER BY 1 COLLATE "C"`,
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
  };
}
