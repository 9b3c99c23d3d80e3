/**
 * @module stores/postgres/trace-hunt
 * Read-only SQL hunting over the fleet's trace in PostgreSQL (trace/hunt's counterpart). Guards,
 * each enough on its own to stop a write or a read outside the trace:
 * 1. trace/hunt's text check (length, a single SELECT or WITH … SELECT);
 * 2. one statement: the query is sent as a named prepared statement, which PostgreSQL refuses
 *    when it holds more than one command;
 * 3. a READ ONLY transaction on a connection of its own (closed after);
 * 4. SET LOCAL ROLE mailgate_hunt: a NOLOGIN role that may SELECT the trace tables and nothing
 *    else (no configuration, no password hashes, no superuser functions);
 * 5. statement_timeout: PostgreSQL cancels the query at the time limit.
 * The row limit is applied by fetching one row more than it (truncated is reported).
 * The saved hunts' PostgreSQL texts are in stores/postgres/trace-saved-hunts (TraceStore.savedHuntText).
 * Touches: one short-lived connection to PostgreSQL.
 */
import pg from 'pg';
import { checkHuntText, HUNT_DEFAULT_LIMIT, HUNT_DEFAULT_TIMEOUT_MS, HUNT_MAX_LIMIT, HuntRefused, type HuntResult } from '../../trace/hunt.ts';
import { checkIdentifier } from './pool.ts';
import { HUNT_ROLE } from './trace-schema.ts';
import { NUMERIC_INT8 } from './int8.ts';

export interface PgHuntOptions {
  url: string;
  schema: string;
  limit?: number | undefined;
  timeoutMs?: number | undefined;
}

/** Run a hunt (module header). Throws HuntRefused (guards, time limit) or an Error with PostgreSQL's message. */
export async function runHuntPg(sql: string, o: PgHuntOptions): Promise<HuntResult> {
  const limit = o.limit ?? HUNT_DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > HUNT_MAX_LIMIT) throw new HuntRefused(`row limit must be 1..${HUNT_MAX_LIMIT}`);
  const timeoutMs = Math.max(1, Math.floor(o.timeoutMs ?? HUNT_DEFAULT_TIMEOUT_MS));
  checkHuntText(sql);
  checkIdentifier(o.schema);
  const started = Date.now();
  const client = new pg.Client({ connectionString: o.url, options: `-c search_path=${o.schema} -c statement_timeout=${timeoutMs}`, connectionTimeoutMillis: 5000 });
  client.on('error', () => {}); // a dropped connection fails the query in flight; nothing else to do
  await client.connect();
  try {
    await client.query('BEGIN READ ONLY');
    try {
      await client.query(`SET LOCAL ROLE ${HUNT_ROLE}`);
    } catch (e) {
      throw new HuntRefused(
        `hunts need the read-only role ${HUNT_ROLE} (${(e as Error).message}); as a PostgreSQL superuser: CREATE ROLE ${HUNT_ROLE} NOLOGIN; GRANT ${HUNT_ROLE} TO <mailgate user>; GRANT USAGE ON SCHEMA ${o.schema} TO ${HUNT_ROLE}; GRANT SELECT ON ${o.schema}.trace_message, ${o.schema}.trace_event TO ${HUNT_ROLE}`,
      );
    }
    let r: pg.QueryResult<Record<string, unknown>>;
    try {
      r = await client.query<Record<string, unknown>>({ name: 'mailgate_hunt', text: `SELECT * FROM (${sql.replace(/;\s*$/, '')}) AS hunt LIMIT ${limit + 1}`, types: NUMERIC_INT8 });
    } catch (e) {
      const err = e as Error & { code?: string };
      if (err.code === '57014') throw new HuntRefused(`query stopped: it ran longer than the time limit of ${timeoutMs} ms`);
      if (err.code === '42601' && /multiple commands/i.test(err.message)) throw new HuntRefused('query refused: more than one statement (only a single SELECT is allowed)');
      if (err.code === '42501') throw new HuntRefused(`query refused: ${err.message} (hunts read trace_message and trace_event only)`);
      if (err.code === '25006') throw new HuntRefused(`query refused: ${err.message}`);
      throw e;
    }
    const truncated = r.rows.length > limit;
    return { columns: r.fields.map((f) => f.name), rows: truncated ? r.rows.slice(0, limit) : r.rows, truncated, ms: Date.now() - started };
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
