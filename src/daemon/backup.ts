/**
 * @module daemon/backup
 * `mailgate backup DIR` and `mailgate restore DIR`: a consistent copy of a data directory taken
 * while `serve` runs, and its return into a data directory that no gateway is using.
 * Backup, in this order: the spool (journal, then msg/: queue/spool-copy.ts), then the SQLite
 * store through SQLite's online backup API (better-sqlite3 `db.backup()`, a snapshot taken
 * page by page without stopping the writer), then the TLS material and a fleet node's store.yaml
 * (which PostgreSQL schema holds its configuration: back that up with pg_dump), then `manifest.json` last
 * (a backup without it is incomplete and is refused). Because the store is copied after the spool,
 * a message delivered meanwhile is final in the copy (recovery deletes its file, never delivers it
 * twice), and a row with no file in the copy is a message accepted after the spool was copied: it
 * is not in this backup, and its row is removed from the copy (else it would sit on hold).
 * Restore copies the backup in, migrates it to this release's data version and leaves the rest to
 * the next `serve` (recovery replays the journal and registers every file).
 * Touches: the data directory (read for backup, written for restore) and the backup directory.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openDatabase } from '../core/sqlite.ts';
import { DATA_VERSION, dataVersionOf } from '../core/data-version.ts';
import { QueueStore, copySpool } from '../queue/index.ts';
import { dataPaths } from './paths.ts';
import { liveServePid } from './pidfile.ts';
import { migrateDataDir } from './migrate.ts';
import { releaseVersion } from './release.ts';
import { BOOTSTRAP_FILE } from '../stores/bootstrap.ts';
import { CONFIG_CACHE } from './config-cache.ts';

const MANIFEST = 'manifest.json';
const TLS = 'tls';

/** What a backup holds; `manifest.json` of the backup directory. */
export interface BackupManifest {
  format: 'mailgate-backup';
  formatVersion: 1;
  release: string;
  dataVersion: number;
  createdAt: string;
  source: string;
  /** Messages to deliver in the copy (open queue rows). */
  queued: number;
  spoolFiles: number;
  journalSegments: number;
  /** Rows of messages accepted after the spool was copied, removed from the copy. */
  droppedRows: number;
}

/** A backup or restore refused (the CLI prints the message on one line, exit 1). */
export class BackupError extends Error {
  override name = 'BackupError';
}

/** A fleet node's store.yaml (it may hold the PostgreSQL password: kept 0600). */
function copyBootstrap(from: string, to: string): void {
  if (!existsSync(join(from, BOOTSTRAP_FILE))) return;
  copyFileSync(join(from, BOOTSTRAP_FILE), join(to, BOOTSTRAP_FILE));
  chmodSync(join(to, BOOTSTRAP_FILE), 0o600);
}

function isEmptyDir(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

/** Copy the data directory `data` into `dest` (new or empty) while a gateway may run on it. */
export async function backupDataDir(data: string, dest: string): Promise<BackupManifest> {
  const paths = dataPaths(data);
  const out = resolve(dest);
  if (!existsSync(paths.db)) throw new BackupError(`no mailgate data directory at ${paths.dir} (no mailgate.db)`);
  if (!isEmptyDir(out)) throw new BackupError(`${out} is not empty: back up into a new or empty directory`);
  mkdirSync(out, { recursive: true, mode: 0o700 });
  const spool = await copySpool(paths.spool, join(out, 'spool'));
  const src = openDatabase(paths.db, { readonly: true });
  try {
    await src.backup(join(out, 'mailgate.db'));
  } finally {
    src.close();
  }
  chmodSync(join(out, 'mailgate.db'), 0o600); // password hashes, mail metadata
  const db = openDatabase(join(out, 'mailgate.db'));
  let queued = 0;
  let droppedRows = 0;
  let dataVersion = 0;
  try {
    const store = new QueueStore(db);
    const open = store.openIds();
    const dropped = open.filter((id) => !spool.ids.has(id));
    droppedRows = store.deleteRows(dropped);
    queued = open.length - droppedRows;
    dataVersion = dataVersionOf(db);
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  if (existsSync(join(paths.dir, TLS))) cpSync(join(paths.dir, TLS), join(out, TLS), { recursive: true });
  copyBootstrap(paths.dir, out);
  const manifest: BackupManifest = {
    format: 'mailgate-backup',
    formatVersion: 1,
    release: releaseVersion(),
    dataVersion,
    createdAt: new Date().toISOString(),
    source: paths.dir,
    queued,
    spoolFiles: spool.messages,
    journalSegments: spool.journalSegments,
    droppedRows,
  };
  writeFileSync(join(out, MANIFEST), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
  return manifest;
}

/** The manifest of a complete backup, or a BackupError saying why `dir` is not one. */
export function readManifest(dir: string): BackupManifest {
  let m: Partial<BackupManifest>;
  try {
    m = JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8')) as Partial<BackupManifest>;
  } catch {
    throw new BackupError(`${resolve(dir)} is not a complete mailgate backup (no readable ${MANIFEST})`);
  }
  if (m.format !== 'mailgate-backup' || m.formatVersion !== 1 || typeof m.dataVersion !== 'number') {
    throw new BackupError(`${resolve(dir)}/${MANIFEST} is not a mailgate backup manifest this release reads`);
  }
  if (m.dataVersion > DATA_VERSION) {
    throw new BackupError(`the backup in ${resolve(dir)} was made by a newer mailgate (data version ${m.dataVersion}; this mailgate reads up to ${DATA_VERSION})`);
  }
  return m as BackupManifest;
}

/** Put the backup in `from` into the data directory `data`; `force` replaces a non-empty one. */
export function restoreDataDir(from: string, data: string, opts: { force?: boolean } = {}): BackupManifest & { migratedFrom: number } {
  const manifest = readManifest(from);
  const paths = dataPaths(data);
  const pid = liveServePid(paths.dir);
  if (pid !== undefined) throw new BackupError(`${paths.dir} is in use by a running mailgate serve (PID ${pid}): stop it first`);
  if (!isEmptyDir(paths.dir)) {
    if (!opts.force) throw new BackupError(`${paths.dir} is not empty: pass --force to replace its store, spool and TLS material`);
    for (const f of ['mailgate.db', 'mailgate.db-wal', 'mailgate.db-shm', 'serve.pid', 'spool', TLS, BOOTSTRAP_FILE, CONFIG_CACHE]) rmSync(join(paths.dir, f), { recursive: true, force: true });
  }
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  cpSync(join(from, 'spool'), paths.spool, { recursive: true });
  if (existsSync(join(from, TLS))) cpSync(join(from, TLS), join(paths.dir, TLS), { recursive: true });
  copyBootstrap(from, paths.dir);
  copyFileSync(join(from, 'mailgate.db'), paths.db);
  chmodSync(paths.db, 0o600);
  const db = openDatabase(paths.db);
  try {
    const { from: migratedFrom } = migrateDataDir(db);
    return { ...manifest, migratedFrom };
  } finally {
    db.close();
  }
}
