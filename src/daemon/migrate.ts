/**
 * @module daemon/migrate
 * Brings a data directory made by an older mailgate up to this one's data version at start
 * (`mailgate serve`, `mailgate restore`), before anything else reads it: each step runs in one
 * write transaction with the version bump, so a crash mid-way leaves the old version and the step
 * runs again at the next start. Every applied step is recorded in `data_migration` (when, by which
 * release). A directory from a newer mailgate never gets here: openDatabase refuses it
 * (core/data-version.ts).
 * Steps:
 *   0 → 1  (0.1.0 had no version) create every store's tables that are missing (configuration
 *          versions, queue index, trace with its newer columns and indexes) and start the record.
 * Touches: the SQLite store of the data directory.
 */
import type { Db } from '../core/sqlite.ts';
import type { Logger } from '../core/log.ts';
import { DATA_VERSION, dataVersionOf } from '../core/data-version.ts';
import { SqliteConfigStore } from '../stores/sqlite/config-store.ts';
import { QueueStore } from '../queue/index.ts';
import { ensureTraceSchema } from '../trace/index.ts';
import { releaseVersion } from './release.ts';

const RECORD = `CREATE TABLE IF NOT EXISTS data_migration (
  version    INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL,
  release    TEXT NOT NULL
)`;

/** Step `to`: what turns a data dir of version `to - 1` into `to`. Index = target version. */
const STEPS: ReadonlyArray<(db: Db) => void> = [
  () => undefined,
  (db) => {
    new SqliteConfigStore(db);
    new QueueStore(db);
    ensureTraceSchema(db);
    db.exec(RECORD);
  },
];

/** What migrateDataDir did. */
export interface MigrationReport {
  from: number;
  to: number;
}

/** Migrate `db` to DATA_VERSION; returns the versions before and after. */
export function migrateDataDir(db: Db, logger?: Logger): MigrationReport {
  const from = dataVersionOf(db);
  for (let v = from + 1; v <= DATA_VERSION; v++) {
    const step = STEPS[v];
    if (!step) throw new Error(`no migration step to data version ${v}`);
    db.transaction(() => {
      // Another process may have migrated meanwhile: the check shares the write lock.
      if (dataVersionOf(db) >= v) return;
      step(db);
      db.prepare('INSERT OR REPLACE INTO data_migration (version, applied_at, release) VALUES (?, ?, ?)').run(v, Date.now(), releaseVersion());
      db.pragma(`user_version = ${v}`);
    }).immediate();
    logger?.info({ from: v - 1, to: v }, 'data directory migrated');
  }
  return { from, to: dataVersionOf(db) };
}
