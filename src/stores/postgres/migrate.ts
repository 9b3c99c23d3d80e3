/**
 * @module stores/postgres/migrate
 * Versioned schema migrations for the PostgreSQL store. Each migration runs in its own transaction
 * that first takes `pg_advisory_xact_lock` on the schema's name, so nodes starting together apply
 * each migration exactly once (the others wait, then see it recorded in `schema_migrations`).
 * A schema carrying a migration this build does not know was written by a newer mailgate: refused.
 * The list of migrations is stores/postgres/migrations/index.ts (append only, never renumber).
 * Touches: the mailgate schema of the database (DDL) and its schema_migrations table.
 */
import { checkIdentifier, type PgClient, type PgPool } from './pool.ts';
import { MIGRATIONS, type Migration } from './migrations/index.ts';
import { guardClient } from './checkout.ts';

export type { Migration } from './migrations/index.ts';

export interface MigrateResult {
  /** Versions applied by this call (empty when the schema was already current). */
  applied: number[];
  /** The schema's version after the call. */
  version: number;
}

/** Lock key: one per schema, so fleets in other schemas of the same database do not wait on each other. */
const LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('mailgate.migrate.' || $1))";

async function appliedVersions(c: PgClient, schema: string): Promise<number[]> {
  await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await c.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
  )`);
  const r = await c.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
  return r.rows.map((x) => x.version);
}

function checkList(list: readonly Migration[]): void {
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration list out of order: ${m.name} has version ${m.version} at position ${i + 1}`);
  });
}

/**
 * Bring `schema` up to the newest migration in `list` (default: every migration of this build).
 * The pool's search_path should be `schema` (openPool does that); DDL in migrations is unqualified.
 */
export async function migrate(pool: PgPool, schema: string, list: readonly Migration[] = MIGRATIONS): Promise<MigrateResult> {
  checkIdentifier(schema);
  checkList(list);
  const applied: number[] = [];
  const c = await pool.connect();
  const guard = guardClient(c);
  let broken = false;
  try {
    // One transaction per migration: a failure leaves every earlier one in place and this one out.
    for (let i = 0; ; i++) {
      await c.query('BEGIN');
      try {
        await c.query(LOCK_SQL, [schema]);
        await c.query(`SET LOCAL search_path = ${schema}`);
        const done = await appliedVersions(c, schema);
        const newest = done.at(-1) ?? 0;
        if (newest > list.length) {
          throw new Error(`schema ${schema} is at migration ${newest}, newer than this mailgate knows (${list.length}): upgrade mailgate`);
        }
        const next = list[newest];
        if (!next) {
          await c.query('COMMIT');
          return { applied, version: newest };
        }
        await next.up(c);
        await c.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [next.version, next.name]);
        await c.query('COMMIT');
        applied.push(next.version);
      } catch (e) {
        await c.query('ROLLBACK').catch(() => (broken = true));
        throw e;
      }
      if (i > list.length) throw new Error('migrate: no progress'); // cannot happen; bounds the loop
    }
  } finally {
    guard.release(broken);
  }
}

/** The schema's migration version (0 when it has none, or does not exist). */
export async function schemaVersion(pool: PgPool, schema: string): Promise<number> {
  checkIdentifier(schema);
  const exists = await pool.query(`SELECT to_regclass($1) AS t`, [`${schema}.schema_migrations`]);
  if (!exists.rows[0]?.t) return 0;
  const r = await pool.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${schema}.schema_migrations`);
  return r.rows[0]?.v ?? 0;
}
