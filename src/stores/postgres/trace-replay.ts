/**
 * @module stores/postgres/trace-replay
 * Policy replay's facts over the fleet's PostgreSQL trace (TraceStore.replayFacts): the window's
 * gateway rows grouped in SQL by every replayed fact and the recipients refused one by one (REJECT
 * events at or after the window's start, by time then address, as stores/sqlite/trace-replay-facts on SQLite),
 * each group with its count and first rows by (received_at, id). Streamed through a cursor in
 * pages, so a window with many distinct tuples never sits in memory at once.
 * Touches: reads trace_message and trace_event of one schema, on one pooled connection.
 */
import type { Pool, QueryConfig } from 'pg';
import { REPLAY_FACT_COLUMNS, type ReplayFactGroup, type ReplayFacts, type ReplayScope } from '../../trace/index.ts';
import { guardClient } from './checkout.ts';
import { NUMERIC_INT8 } from './int8.ts';

/** Groups per FETCH. */
const PAGE = 2000;

type GroupRow = ReplayFacts & { refused: string[]; n: number; ids: string[]; ats: number[]; subjects: (string | null)[] };

/** The SELECT of the scope's groups and its values (schema `s` quoted). */
function groupsQuery(s: string, scope: ReplayScope, samples: number): { text: string; values: unknown[] } {
  const values: unknown[] = [scope.since, scope.until, samples];
  const p = (v: unknown): string => `$${values.push(v)}`;
  let match = '';
  if (scope.match) {
    const ips = [...new Set(scope.match.ips)];
    const byIp = ips.length ? `m.client_ip = ANY(${p(ips)}::text[])` : 'false';
    const byCert = scope.match.certCn ? ` OR (m.cert_cn = ${p(scope.match.certCn)} AND m.cert_verified = 1)` : '';
    match = ` AND (${byIp}${byCert})`;
  }
  const cols = REPLAY_FACT_COLUMNS.join(', ');
  const mcols = REPLAY_FACT_COLUMNS.map((c) => `m.${c}`).join(', ');
  const text = `WITH r AS (
      SELECT message_id, array_agg(recipient ORDER BY at, recipient COLLATE "C") AS refused
        FROM ${s}.trace_event WHERE event = 'REJECT' AND recipient IS NOT NULL AND at >= $1 GROUP BY message_id),
    x AS (
      SELECT ${mcols}, coalesce(r.refused, '{}') AS refused, m.id, m.received_at::float8 AS at, m.subject,
             row_number() OVER (PARTITION BY ${mcols}, coalesce(r.refused, '{}') ORDER BY m.received_at, m.id) AS rn
        FROM ${s}.trace_message m LEFT JOIN r ON r.message_id = m.id
       WHERE m.received_at >= $1 AND m.received_at < $2 AND (m.source IS NULL OR m.source = 'gateway')${match})
    SELECT ${cols}, refused, count(*)::int AS n,
           array_agg(id ORDER BY rn) FILTER (WHERE rn <= $3) AS ids,
           array_agg(at ORDER BY rn) FILTER (WHERE rn <= $3) AS ats,
           array_agg(subject ORDER BY rn) FILTER (WHERE rn <= $3) AS subjects
      FROM x GROUP BY ${cols}, refused`;
  return { text, values };
}

/** TraceStore.replayFacts over `pool` (module header). */
export function pgReplayFacts(pool: Pool, s: string): (scope: ReplayScope, opts: { samples: number }) => AsyncIterable<ReplayFactGroup> {
  return (scope, opts) => ({
    [Symbol.asyncIterator]: async function* () {
      const q = groupsQuery(s, scope, Math.max(0, Math.floor(opts.samples)));
      const c = await pool.connect();
      // The cursor keeps the client checked out between pages, while the consumer replays: a
      // connection dropping then emits 'error', which must not go unheard.
      const guard = guardClient(c);
      let failed = false;
      let open = false;
      try {
        await c.query('BEGIN READ ONLY');
        open = true;
        await c.query({ text: `DECLARE replay_facts NO SCROLL CURSOR FOR ${q.text}`, values: q.values });
        for (;;) {
          const page = (await c.query<GroupRow>({ text: `FETCH ${PAGE} FROM replay_facts`, types: NUMERIC_INT8 } as QueryConfig)).rows;
          for (const r of page) {
            const facts = Object.fromEntries(REPLAY_FACT_COLUMNS.map((col) => [col, r[col]])) as unknown as ReplayFacts;
            const ids = r.ids ?? [];
            yield { facts, refused: r.refused, count: r.n, samples: ids.map((id, i) => ({ id, at: r.ats[i] ?? 0, subject: r.subjects[i] ?? null })) };
          }
          if (page.length < PAGE) break;
        }
        await c.query('COMMIT');
        open = false;
      } catch (e) {
        failed = true;
        throw e;
      } finally {
        // Left early (the consumer stopped): close the cursor's transaction; a failed connection is dropped.
        if (open && !failed && !guard.dropped()) await c.query('ROLLBACK').catch(() => undefined);
        guard.release(failed);
      }
    },
  });
}
