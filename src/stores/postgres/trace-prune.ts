/**
 * @module stores/postgres/trace-prune
 * Trace retention in PostgreSQL, with the result of SQLite's (trace/retention): messages received
 * before the cutoff go with all their events, orphan events before it go too, imported rows
 * (import_name set) stay. Whole UTC days older than the cutoff are dropped as partitions (no
 * row-by-row delete, no bloat); a day that still holds imported rows is deleted from instead; the
 * day straddling the cutoff is deleted from. One node prunes at a time (advisory lock; others skip).
 * A DROP waits at most LOCK_WAIT for its table: a long reader (a replay's cursor) would otherwise
 * hold it back while every writer of the fleet queued behind the DROP; that day waits for the
 * next run instead.
 * Touches: drops and deletes from the trace partitions of one schema.
 */
import type { Pool, PoolClient } from 'pg';
import { withClient } from './checkout.ts';
import { DAY_MS, existingDays, ident, partitionsOf } from './trace-schema.ts';

const LOCK_WAIT = '2s';
/** lock_not_available: the DROP's lock_timeout ran out. */
const isLockTimeout = (err: unknown): boolean => (err as { code?: string } | null)?.code === '55P03';

/**
 * One old day's drop or delete in a transaction of its own, its DROP waiting at most LOCK_WAIT;
 * undefined when the table stayed locked (that day waits for the next run).
 */
async function dayStep(c: PoolClient, fn: () => Promise<{ messages: number; events: number }>): Promise<{ messages: number; events: number } | undefined> {
  await c.query('BEGIN');
  try {
    await c.query(`SET LOCAL lock_timeout = '${LOCK_WAIT}'`);
    const n = await fn();
    await c.query('COMMIT');
    return n;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    if (isLockTimeout(err)) return undefined;
    throw err;
  }
}

async function count(c: PoolClient, sql: string, values: unknown[] = []): Promise<number> {
  const r = await c.query<{ n: string }>(sql, values);
  return Number(r.rows[0]?.n ?? 0);
}

/** Delete trace rows older than `cutoff` (ms epoch); returns the rows removed from each table. */
export async function pruneTracePg(pool: Pool, schema: string, cutoff: number): Promise<{ messages: number; events: number }> {
  if (!Number.isFinite(cutoff)) throw new Error(`invalid prune cutoff ${String(cutoff)}`);
  const s = ident(schema);
  const result = { messages: 0, events: 0 };
  const firstKeptDay = Math.floor(cutoff / DAY_MS);
  const lock = `${schema}.trace_prune`;
  return withClient(pool, async (c) => {
    // One node prunes at a time; the others skip (the next hour's run finds nothing left).
    if (!(await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [lock])).rows[0]?.ok) return result;
    try {
      const add = (n: { messages: number; events: number } | undefined): void => {
        result.messages += n?.messages ?? 0;
        result.events += n?.events ?? 0;
      };
      for (const d of await existingDays(c, schema, 'trace_message')) {
        if (d >= firstKeptDay) continue;
        const part = `${s}.${ident(partitionsOf(d)[0])}`;
        add(
          await dayStep(c, async () => {
            // Events of these messages in days that stay (a delivery after midnight).
            const events = (await c.query(`DELETE FROM ${s}.trace_event WHERE at >= $1 AND message_id IN (SELECT id FROM ${part} WHERE import_name IS NULL)`, [firstKeptDay * DAY_MS])).rowCount ?? 0;
            if ((await c.query(`SELECT 1 FROM ${part} WHERE import_name IS NOT NULL LIMIT 1`)).rowCount) {
              return { messages: (await c.query(`DELETE FROM ${part} WHERE import_name IS NULL`)).rowCount ?? 0, events };
            }
            const messages = await count(c, `SELECT count(*) AS n FROM ${part}`);
            await c.query(`DROP TABLE IF EXISTS ${part}`);
            return { messages, events };
          }),
        );
      }
      for (const d of await existingDays(c, schema, 'trace_event')) {
        if (d >= firstKeptDay) continue;
        const part = `${s}.${ident(partitionsOf(d)[1])}`;
        const kept = `EXISTS (SELECT 1 FROM ${s}.trace_message m WHERE m.id = e.message_id)`;
        add(
          await dayStep(c, async () => {
            if ((await c.query(`SELECT 1 FROM ${part} e WHERE ${kept} LIMIT 1`)).rowCount) {
              return { messages: 0, events: (await c.query(`DELETE FROM ${part} e WHERE NOT ${kept}`)).rowCount ?? 0 };
            }
            const events = await count(c, `SELECT count(*) AS n FROM ${part}`);
            await c.query(`DROP TABLE IF EXISTS ${part}`);
            return { messages: 0, events };
          }),
        );
      }
      // The day straddling the cutoff.
      await c.query('BEGIN');
      try {
        const gone = await c.query<{ id: string }>(`DELETE FROM ${s}.trace_message WHERE received_at < $1 AND import_name IS NULL RETURNING id`, [cutoff]);
        result.messages += gone.rowCount ?? 0;
        if (gone.rows.length) result.events += (await c.query(`DELETE FROM ${s}.trace_event WHERE message_id = ANY($1)`, [gone.rows.map((r) => r.id)])).rowCount ?? 0;
        result.events += (await c.query(`DELETE FROM ${s}.trace_event e WHERE at < $1 AND NOT EXISTS (SELECT 1 FROM ${s}.trace_message m WHERE m.id = e.message_id)`, [cutoff])).rowCount ?? 0;
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock(hashtext($1))', [lock]).catch(() => undefined);
    }
    return result;
  });
}
