/**
 * @module test/helpers/postgres
 * The machine's PostgreSQL for tests (127.0.0.1:5432, database `test`, user postgres, trust auth;
 * MAILGATE_TEST_PG_URL overrides). Each test gets its own fresh schema, dropped when it ends.
 * PostgreSQL unreachable: the test is skipped with a clear message, except under CI=true, where
 * it fails (`.ci/run` starts the cluster).
 * Schemas left by a test process that died (its PID no longer alive) are dropped at the first use.
 * Touches: the `test` database (creates and drops mg_t_* schemas).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import pg from 'pg';
import { openPool, type PgPool } from '../../src/stores/postgres/pool.ts';

export const PG_URL = process.env.MAILGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let probed: Promise<string | false> | undefined;
let swept: Promise<void> | undefined;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Drop mg_t_<pid>_* schemas of test processes that are gone (killed before their cleanup ran). */
async function sweep(c: pg.Client): Promise<void> {
  const r = await c.query<{ n: string }>("SELECT nspname AS n FROM pg_namespace WHERE nspname LIKE 'mg\\_t\\_%'");
  for (const { n } of r.rows) {
    const pid = Number(/^mg_t_(\d+)_[0-9a-f]+$/.exec(n)?.[1]);
    if (pid && pid !== process.pid && !alive(pid)) await c.query(`DROP SCHEMA IF EXISTS ${n} CASCADE`).catch(() => {});
  }
}

/**
 * `false` when PostgreSQL answers; otherwise the skip message. Under CI=true an absent server is a
 * failure, not a skip. Use as `test(name, { skip: await pgSkip() }, …)`.
 */
export function pgSkip(): Promise<string | false> {
  probed ??= (async () => {
    const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
    try {
      await c.connect();
      await c.query('SELECT 1');
      return false;
    } catch (e) {
      const why = `PostgreSQL not reachable at ${PG_URL} (${(e as Error).message}); start it with: pg_ctlcluster --skip-systemctl-redirect 15 main start`;
      if (process.env.CI === 'true') assert.fail(`${why}: under CI it must run`);
      return why;
    } finally {
      await c.end().catch(() => {});
    }
  })();
  return probed;
}

export interface PgSchema {
  url: string;
  schema: string;
  /** A pool whose search_path is the schema (closed at the test's end). */
  pool: PgPool;
}

/** A new empty schema for this test, dropped (CASCADE) with its pool closed when the test ends. */
export async function pgSchema(t: TestContext): Promise<PgSchema> {
  const schema = `mg_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await (swept ??= sweep(admin));
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  const pool = openPool({ url: PG_URL, schema });
  t.after(async () => {
    await pool.end().catch(() => {});
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    try {
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await c.end();
    }
  });
  return { url: PG_URL, schema, pool };
}
