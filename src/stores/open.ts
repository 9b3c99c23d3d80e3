/**
 * @module stores/open
 * Opens the configuration store a data directory names (stores/bootstrap), with the node
 * heartbeats and the alerts kept beside it: the SQLite adapters on the directory's database
 * handle, or the PostgreSQL adapters on a small pool. The caller owns the SQLite handle;
 * `close()` releases what this opened (the pool).
 * Touches: <data>/store.yaml; a PostgreSQL pool (connections open lazily).
 */
import type { Db } from '../core/sqlite.ts';
import type { ConfigStore } from '../config/store.ts';
import type { NodeStore } from '../config/nodes.ts';
import type { AlertStore } from '../alerts/index.ts';
import { readBootstrap, type StoreBootstrap } from './bootstrap.ts';
import { SqliteConfigStore } from './sqlite/config-store.ts';
import { SqliteNodeStore } from './sqlite/node-store.ts';
import { SqliteAlertStore } from './sqlite/alert-store.ts';
import { PgAlertStore } from './postgres/alert-store.ts';
import { PgNodeStore } from './postgres/node-store.ts';
import { PgConfigStore } from './postgres/config-store.ts';
import { openPool, redactUrl, type PgPool } from './postgres/pool.ts';
import { migrate } from './postgres/migrate.ts';

export interface OpenedConfigStore {
  store: ConfigStore;
  /** The nodes' heartbeats, in the same store. */
  nodes: NodeStore;
  /** The alerts: this node's (SQLite) or, on a fleet, the fleet's (PostgreSQL). */
  alerts: AlertStore;
  bootstrap: StoreBootstrap;
  /** The pool when the store is PostgreSQL (heartbeats share it). */
  pool?: PgPool;
  /** Where the store is, password masked (logs). */
  where: string;
  close(): Promise<void>;
}

/** The store `dataDir` names; `db` is the directory's SQLite handle (used when it names SQLite). */
export function openConfigStore(dataDir: string, db: Db, opts: { bootstrap?: StoreBootstrap } = {}): OpenedConfigStore {
  const bootstrap = opts.bootstrap ?? readBootstrap(dataDir);
  if (bootstrap.kind === 'sqlite') {
    return { store: new SqliteConfigStore(db), nodes: new SqliteNodeStore(db), alerts: new SqliteAlertStore(db), bootstrap, where: `${dataDir}/mailgate.db`, close: async () => {} };
  }
  const pool = openPool({ url: bootstrap.url, schema: bootstrap.schema });
  const where = `${redactUrl(bootstrap.url)} schema ${bootstrap.schema}`;
  return {
    store: new PgConfigStore({ pool, url: bootstrap.url, schema: bootstrap.schema }),
    nodes: new PgNodeStore(pool, where),
    alerts: new PgAlertStore(pool, where),
    bootstrap,
    pool,
    where,
    close: () => pool.end(),
  };
}

/** Create or upgrade the PostgreSQL schema a bootstrap names (no-op for SQLite). */
export async function prepareStore(opened: OpenedConfigStore): Promise<number[]> {
  if (opened.bootstrap.kind !== 'postgres' || !opened.pool) return [];
  return (await migrate(opened.pool, opened.bootstrap.schema)).applied;
}
