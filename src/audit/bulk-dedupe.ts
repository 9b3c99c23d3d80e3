/**
 * @module audit/bulk-dedupe
 * The end of a bulk import (audit/sink), when the unique import_key index was left out for the
 * load: copies sharing an import_key (network message id + recipient) are merged into the first
 * one written and deleted, exactly as a row-by-row import would have merged them as they came:
 * authentication columns the first copy lacks are filled in rowid order, Exchange's verdict keys
 * it lacks are added (json_patch with its own keys winning). One sorted GROUP BY finds them; the
 * duplicates are then read in rowid order, 10,000 at a time (memory stays flat however many).
 * Touches: trace_message (the import's own rows; runs inside the import's transaction), a TEMP table.
 */
import type { Db } from '../core/sqlite.ts';

/** The merge of a duplicate copy into the stored one (named parameters: its columns). */
export const MERGE_SET = `spf = coalesce(spf, @spf), dkim = coalesce(dkim, @dkim), dmarc = coalesce(dmarc, @dmarc), compauth = coalesce(compauth, @compauth),
  header_from = coalesce(header_from, @header_from),
  exo_verdicts = CASE WHEN @exo_verdicts IS NULL THEN exo_verdicts WHEN exo_verdicts IS NULL THEN @exo_verdicts ELSE json_patch(@exo_verdicts, exo_verdicts) END`;

interface Dup {
  r: number;
  keep: number;
  spf: string | null;
  dkim: string | null;
  dmarc: string | null;
  compauth: string | null;
  header_from: string | null;
  exo_verdicts: string | null;
}

/**
 * Merge and delete every copy whose import_key an earlier row (lower rowid) holds. `fileEnds`: the
 * largest rowid at the end of each file, ascending; returns the duplicates deleted per file, and in
 * all (rows after the last end, of a file refused mid-way, count only there).
 */
export function dedupeBulkLoad(db: Db, fileEnds: readonly number[]): { perFile: number[]; total: number } {
  const perFile = fileEnds.map(() => 0);
  db.exec(`DROP TABLE IF EXISTS temp.bulk_dup;
    CREATE TEMP TABLE bulk_dup (k TEXT PRIMARY KEY, keep INTEGER NOT NULL) WITHOUT ROWID;
    INSERT INTO temp.bulk_dup SELECT import_key, min(rowid) FROM main.trace_message WHERE import_key IS NOT NULL GROUP BY import_key HAVING count(*) > 1;`);
  try {
    const page = db.prepare(
      `SELECT t.rowid AS r, d.keep AS keep, t.spf, t.dkim, t.dmarc, t.compauth, t.header_from, t.exo_verdicts
       FROM main.trace_message t JOIN temp.bulk_dup d ON d.k = t.import_key WHERE t.rowid > ? AND t.rowid <> d.keep ORDER BY t.rowid LIMIT 10000`,
    );
    const merge = db.prepare(`UPDATE main.trace_message SET ${MERGE_SET} WHERE rowid = @keep`);
    const del = db.prepare('DELETE FROM main.trace_message WHERE rowid = ?');
    let after = 0;
    let file = 0;
    let total = 0;
    for (;;) {
      const dups = page.all(after) as Dup[];
      if (dups.length === 0) break;
      for (const d of dups) {
        if (d.spf || d.dkim || d.dmarc || d.compauth || d.header_from || d.exo_verdicts) {
          merge.run({ keep: d.keep, spf: d.spf, dkim: d.dkim, dmarc: d.dmarc, compauth: d.compauth, header_from: d.header_from, exo_verdicts: d.exo_verdicts });
        }
        del.run(d.r);
        total++;
        while (file < fileEnds.length && d.r > fileEnds[file]!) file++;
        if (file < fileEnds.length) perFile[file]!++;
        after = d.r;
      }
    }
    return { perFile, total };
  } finally {
    db.exec('DROP TABLE IF EXISTS temp.bulk_dup');
  }
}
