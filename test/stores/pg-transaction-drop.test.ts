/**
 * @module test/stores/pg-transaction-drop.test
 * A configuration save (stores/postgres/pool inTransaction) whose connection drops mid-transaction
 * (PostgreSQL restarted, the backend terminated) fails that save with an error and never crashes
 * the process: a checked-out client's 'error' event must have a listener.
 * Touches: a PostgreSQL schema; terminates only the backend this test's own transaction uses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { inTransaction, openPool } from '../../src/stores/postgres/pool.ts';
import { PG_URL, pgSchema, pgSkip } from '../helpers/postgres.ts';

test('postgres: a transaction whose connection drops fails cleanly; the process lives on; the pool serves the next', { skip: await pgSkip() }, async (t) => {
  const { schema } = await pgSchema(t);
  const pool = openPool({ url: PG_URL, schema });
  t.after(() => pool.end().catch(() => undefined));
  let uncaught: unknown;
  const hear = (e: unknown): void => {
    uncaught = e;
  };
  process.on('uncaughtException', hear);
  t.after(() => process.off('uncaughtException', hear));
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  t.after(() => admin.end());
  await assert.rejects(
    inTransaction(pool, async (c) => {
      const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await new Promise((r) => setTimeout(r, 300)); // the drop arrives while no query runs
      await c.query('SELECT 1');
    }),
  );
  assert.equal(uncaught, undefined, 'no uncaught exception');
  assert.equal(await inTransaction(pool, async (c) => (await c.query<{ n: number }>('SELECT 1 AS n')).rows[0]?.n), 1);
});
