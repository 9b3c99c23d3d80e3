/**
 * @module daemon/paths
 * The data directory layout (`--data DIR`, default ./data): the SQLite store, the spool, the
 * generated TLS material; pickup folders live below it too (routes name them relative to it).
 * The directory is the owner's alone (0700: it holds password hashes, keys and mail); a reader
 * group gets a pickup folder outside it (route `pickupOutsideDataDir`, `pickupFileMode`).
 * Touches: the data directory's mode (secureDataDir).
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface DataPaths {
  dir: string;
  db: string;
  spool: string;
}

/** Resolve the layout of a data directory. */
export function dataPaths(dir: string): DataPaths {
  const abs = resolve(dir);
  return { dir: abs, db: join(abs, 'mailgate.db'), spool: join(abs, 'spool') };
}

/**
 * Create the data directory 0700, or narrow an existing one to 0700; returns the mode it had when
 * that was wider (for a log line), else undefined.
 */
export function secureDataDir(dir: string): number | undefined {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  chmodSync(dir, 0o700);
  return mode;
}
