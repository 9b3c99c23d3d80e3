/**
 * @module core/sqlite
 * Opens the embedded SQLite store (better-sqlite3) with the settings every user of it relies on:
 * WAL (readers never block the writer; several processes may share the file), a busy timeout
 * (cluster workers and the CLI write to the same file), foreign keys on.
 * The file holds the scrypt hashes and the whole trace: it is created 0600 in a directory created
 * 0700, and an existing file (and its -wal / -shm, which SQLite creates with the database file's
 * mode) is narrowed to 0600 when opened for writing.
 * Durability of accepted mail does not rest on SQLite: the spool file (fsynced, with its end
 * record) is the source of truth and queue rows are rebuilt from it at start.
 * A database written by a newer mailgate is refused at open (core/data-version.ts).
 * Touches: the database file.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { refuseNewerData } from './data-version.ts';

export type Db = Database.Database;

/** Create the database file 0600 when absent; narrow it and its -wal / -shm to 0600 when wider. */
function ownerOnly(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if ((statSync(f).mode & 0o077) !== 0) chmodSync(f, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

/** Open (creating if needed) a SQLite database file with WAL and a busy timeout. */
export function openDatabase(file: string, opts: { readonly?: boolean } = {}): Db {
  if (!opts.readonly && file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    ownerOnly(file);
  }
  const db = new Database(file, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  db.pragma('busy_timeout = 10000');
  try {
    if (file !== ':memory:') refuseNewerData(db, file);
  } catch (e) {
    db.close();
    throw e;
  }
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
  }
  return db;
}

/**
 * A table set made on first use: `ensure(db)` runs `schema` (CREATE … IF NOT EXISTS) once per
 * connection and returns the connection, so each query site can write `ensure(db).prepare(…)`.
 */
export function schemaOnce(schema: string): (db: Db) => Db {
  const ready = new WeakSet<Db>();
  return (db) => {
    if (!ready.has(db)) {
      db.exec(schema);
      ready.add(db);
    }
    return db;
  };
}
