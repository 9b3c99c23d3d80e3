/**
 * @module test/audit/interrupted-import.test
 * An import is all or nothing: a process killed (SIGKILL) in the middle of `audit import`, after
 * rows were written inside its transaction, leaves no message copy, no data set and every
 * trace_message index in place, whether it was a bulk load into an empty trace (rollback journal,
 * indexes left out until the end) or an import into a trace holding a gateway's rows (WAL, indexes
 * kept). While it runs, another connection sees none of its rows. The same file imports whole
 * afterwards, and the store is back in WAL mode.
 * Touches: a temporary data directory; one child process (test/audit/interrupted-import-child.ts),
 * stopped by its PID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/core/sqlite.ts';
import { importFiles, listDatasets } from '../../src/audit/index.ts';
import { ensureTraceSchema, insertMessageSync } from '../../src/trace/index.ts';
import { cli, removeDir, ROOT, tempDir } from '../helpers/gateway.ts';
import * as X from './form-fixtures.ts';

const ROWS = 40_000;
const CHILD = join(ROOT, 'test', 'audit', 'interrupted-import-child.ts');

/** A Get-MessageTraceV2 export of ROWS rows, 20 November 2026 onward (day 20 settles the date order). */
function bigExport(dir: string): string {
  const t0 = Date.UTC(2026, 10, 20);
  const rows: string[][] = [];
  for (let i = 0; i < ROWS; i++) {
    const id = `${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
    rows.push([id, `<m${i}@example>`, X.usTime(t0 + i * 1000), `device${i % 7}@contoso.com`, `rcpt${i % 50}@contoso.com`, `198.51.100.${i % 250}`, '', `Message ${i}`, 'Delivered', String(1000 + i)]);
  }
  return X.put(dir, 'trace.csv', X.exportCsv(X.V2_HEADER, rows));
}

const indexes = (db: Db): string[] =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'trace_message' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
const count = (db: Db, where = '1'): number => (db.prepare(`SELECT count(*) AS n FROM trace_message WHERE ${where}`).get() as { n: number }).n;

/** Start the child, wait (bounded) until it holds mid-import, let `look` see the store, then SIGKILL it by PID. */
async function killMidImport(dbFile: string, file: string, look: () => void): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dbFile, file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((res) => child.once('exit', (_code, signal) => res(signal)));
  try {
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`the import never got half-way: ${out} ${err}`)), 120_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('held')) {
          clearTimeout(t);
          res();
        } else if (out.includes('finished')) {
          clearTimeout(t);
          rej(new Error('the import finished before it could be killed'));
        }
      });
      child.once('exit', () => rej(new Error(`the child exited early: ${out} ${err}`)));
    });
    look();
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
  }
  assert.equal(await exited, 'SIGKILL');
}

for (const into of ['an empty trace (bulk load)', 'a trace holding a gateway row'] as const) {
  test(`audit import killed mid-way into ${into} leaves nothing visible and every index in place`, { timeout: 300_000 }, async () => {
    const dir = tempDir('mailgate-cut-');
    const dbFile = join(dir, 'mailgate.db');
    try {
      assert.equal(cli(dir, ['init']).code, 0);
      const file = bigExport(dir);
      const before = openDatabase(dbFile);
      ensureTraceSchema(before);
      const all = indexes(before);
      assert.equal(all.length, 7);
      const gateway = into === 'a trace holding a gateway row' ? 1 : 0;
      if (gateway) insertMessageSync(before, { id: 'G1', connectionId: 'C', receivedAt: Date.now(), clientIp: '192.0.2.1', listener: 'mx', recipients: ['a@contoso.com'], status: 'Delivered', source: 'gateway' });
      before.close();

      await killMidImport(dbFile, file, () => {
        // The bulk load runs under a rollback journal (pages written once); beside a gateway's rows, WAL.
        assert.equal(existsSync(`${dbFile}-journal`), !gateway, 'a rollback journal exactly for the bulk load');
        const reader = openDatabase(dbFile, { readonly: true });
        try {
          assert.equal(count(reader), gateway, 'another connection sees none of the import while it runs');
        } finally {
          reader.close();
        }
      });

      const db = openDatabase(dbFile);
      try {
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
        assert.equal(count(db), gateway, 'no message copy of the killed import');
        assert.equal(count(db, "import_name = 'cut'"), 0);
        assert.deepEqual(listDatasets(db), [], 'no data set, recorded or not');
        assert.deepEqual(indexes(db), all, 'every index in place');
        const s = await importFiles(db, [file], { name: 'cut', tenantDomains: ['contoso.com'] });
        assert.deepEqual([s.files[0]?.rows, s.files[0]?.inserted, s.files[0]?.duplicates], [ROWS, ROWS, 0]);
        assert.equal(count(db, "import_name = 'cut'"), ROWS);
        assert.deepEqual(indexes(db), all);
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      } finally {
        db.close();
      }
    } finally {
      removeDir(dir);
    }
  });
}
