/**
 * @module test/helpers/trace-adapters
 * The trace store adapters the shared suites run against: SQLite (a temp file, always) and the
 * machine's PostgreSQL (a fresh schema per test, dropped at its end; skipped with a message when
 * PostgreSQL is absent, failing under CI=true). Use as
 * `for (const a of await traceAdapters()) test(`${a.name}: …`, { skip: a.skip }, async (t) => { const store = await a.open(t); … })`.
 * Touches: a temp directory; the `test` database (mg_t_* schemas).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type pg from 'pg';
import { openDatabase } from '../../src/core/sqlite.ts';
import { migrate } from '../../src/stores/postgres/migrate.ts';
import { pgTraceStore } from '../../src/stores/postgres/trace-store.ts';
import { sqliteTraceStore } from '../../src/stores/sqlite/trace-store.ts';
import type { TraceStore } from '../../src/trace/index.ts';
import { pgSkip, pgSchema } from './postgres.ts';

export interface TraceAdapter {
  name: 'sqlite' | 'postgres';
  /** false, or why the adapter's tests are skipped. */
  skip: string | false;
  /** A fresh, empty store for this test (closed and removed when it ends). */
  open(t: TestContext, node?: string): Promise<TraceStore>;
}

export const sqliteAdapter: TraceAdapter = {
  name: 'sqlite',
  skip: false,
  open: async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'mailgate-tstore-'));
    const store = sqliteTraceStore(openDatabase(join(dir, 'mailgate.db')), { owned: true });
    t.after(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return store;
  },
};

export async function postgresAdapter(): Promise<TraceAdapter> {
  return { name: 'postgres', skip: await pgSkip(), open: async (t, node) => (await openPg(t, node)).store };
}

/** A PostgreSQL trace store in a fresh schema, with its pool (search_path = the schema) and name. */
export async function openPg(t: TestContext, node = 'n1'): Promise<{ store: TraceStore; pool: pg.Pool; schema: string }> {
  const { pool, schema } = await pgSchema(t);
  await migrate(pool, schema);
  return { store: pgTraceStore({ pool, schema, node }), pool, schema };
}

/** Both adapters (module header). */
export async function traceAdapters(): Promise<TraceAdapter[]> {
  return [sqliteAdapter, await postgresAdapter()];
}
