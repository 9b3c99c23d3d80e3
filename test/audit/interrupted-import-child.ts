/**
 * @module test/audit/interrupted-import-child
 * The process test/audit/interrupted-import.test.ts kills: imports FILE into the store DB as
 * `cut` and, once more than 25,000 rows are read (the first 20,000-row batch is written inside the
 * import's transaction), prints `held` and blocks (at most 60 s) so the test can look at the store
 * from outside and SIGKILL it mid-import. Prints `finished` should the import end unkilled.
 * Usage: `node --import tsx test/audit/interrupted-import-child.ts DB FILE`.
 * Touches: the given store and file.
 */
import { writeSync } from 'node:fs';
import { openDatabase } from '../../src/core/sqlite.ts';
import { importFiles } from '../../src/audit/index.ts';

const [dbFile, file] = process.argv.slice(2);
if (!dbFile || !file) throw new Error('usage: interrupted-import-child.ts DB FILE');
const db = openDatabase(dbFile);
let held = false;
const progress = {
  isTTY: false,
  write(s: string): void {
    const rows = Number(/([\d,]+) rows/.exec(s)?.[1]?.replace(/,/g, '') ?? 0);
    if (held || rows <= 25_000) return;
    held = true;
    writeSync(1, 'held\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
  },
};
await importFiles(db, [file], { name: 'cut', tenantDomains: ['contoso.com'], progress, progressIntervalMs: 0 });
writeSync(1, 'finished\n');
db.close();
