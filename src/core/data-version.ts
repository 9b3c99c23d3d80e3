/**
 * @module core/data-version
 * The version of a data directory's schema: SQLite's `user_version` of `mailgate.db`, one number
 * for every store in the directory (configuration versions, queue index, trace, and the spool
 * layout beside it, which are migrated together). 0 is a directory made before versions existed
 * (mailgate 0.1.0). A directory written by a newer mailgate is refused with one line, never read
 * half-understood; an older one is migrated by `mailgate serve` at start (daemon/migrate.ts).
 * Touches: the `user_version` pragma of the database it is given.
 */
import type Database from 'better-sqlite3';

/** The data directory schema this mailgate reads and writes. */
export const DATA_VERSION = 1;

/** A data directory made by a newer mailgate. */
export class DataVersionError extends Error {
  constructor(
    readonly file: string,
    readonly found: number,
  ) {
    super(`${file} was written by a newer mailgate (data version ${found}; this mailgate reads up to ${DATA_VERSION}): run the newer mailgate, or restore a backup made by this version`);
    this.name = 'DataVersionError';
  }
}

/** The data version recorded in `db` (0 before versions existed). */
export function dataVersionOf(db: Database.Database): number {
  return Number(db.pragma('user_version', { simple: true }));
}

/** Throw DataVersionError when `db` was written by a newer mailgate. */
export function refuseNewerData(db: Database.Database, file: string): void {
  const v = dataVersionOf(db);
  if (v > DATA_VERSION) throw new DataVersionError(file, v);
}
