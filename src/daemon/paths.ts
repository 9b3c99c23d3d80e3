/**
 * @module daemon/paths
 * The data directory layout (`--data DIR`, default ./data): the SQLite store, the spool, the
 * generated TLS material; pickup folders live below it too (routes name them relative to it).
 * Touches: nothing (names only).
 */
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
