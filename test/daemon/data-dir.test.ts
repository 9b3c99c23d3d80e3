/**
 * @module test/daemon/data-dir
 * The data directory's version and its owner mark, on real SQLite files: migration from
 * version 0 is recorded once and is idempotent (a second start, or two at once, changes
 * nothing); a newer version is refused at open by every opener; `serve.pid` counts only while it
 * names a live `serve` (a file left by a killed gateway, or naming another program, does not).
 * Touches: temp directories and SQLite files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../../src/core/sqlite.ts';
import { DATA_VERSION, DataVersionError, dataVersionOf } from '../../src/core/data-version.ts';
import { migrateDataDir } from '../../src/daemon/migrate.ts';
import { liveServePid, writePidFile } from '../../src/daemon/pidfile.ts';
import { removeDir, tempDir } from '../helpers/gateway.ts';

test('migration from data version 0 runs once, is recorded, and a second run changes nothing', () => {
  const dir = tempDir('mailgate-migrate-');
  try {
    const file = join(dir, 'mailgate.db');
    const db = openDatabase(file);
    assert.equal(dataVersionOf(db), 0);
    assert.deepEqual(migrateDataDir(db), { from: 0, to: DATA_VERSION });
    assert.deepEqual(migrateDataDir(db), { from: DATA_VERSION, to: DATA_VERSION });
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    for (const t of ['config_version', 'queue_message', 'queue_rcpt', 'trace_message', 'trace_event', 'data_migration']) assert.ok(tables.includes(t), t);
    assert.equal((db.prepare('SELECT count(*) AS n FROM data_migration').get() as { n: number }).n, DATA_VERSION);
    db.close();
  } finally {
    removeDir(dir);
  }
});

test('a database of a newer data version is refused at open, and not changed', () => {
  const dir = tempDir('mailgate-newer-');
  try {
    const file = join(dir, 'mailgate.db');
    const db = openDatabase(file);
    db.pragma(`user_version = ${DATA_VERSION + 3}`);
    db.close();
    assert.throws(() => openDatabase(file), (e: unknown) => e instanceof DataVersionError && e.found === DATA_VERSION + 3 && !e.message.includes('\n'));
    assert.throws(() => openDatabase(file, { readonly: true }), DataVersionError);
  } finally {
    removeDir(dir);
  }
});

test('serve.pid counts only while it names a live serve', async () => {
  const dir = tempDir('mailgate-pid-');
  try {
    assert.equal(liveServePid(dir), undefined, 'no file');
    // A live process whose command line says serve (as `mailgate serve` does).
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)', 'serve'], { stdio: 'ignore' });
    const pid = child.pid as number;
    try {
      writeFileSync(join(dir, 'serve.pid'), `${pid}\n`);
      assert.equal(liveServePid(dir), pid);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    assert.equal(liveServePid(dir), undefined, 'left by a gateway that is gone');
    writeFileSync(join(dir, 'serve.pid'), `${process.pid}\n`); // alive, but not a serve
    assert.equal(liveServePid(dir), undefined, 'a PID reused by another program');
    const unlink = writePidFile(dir);
    unlink();
    assert.equal(liveServePid(dir), undefined, 'removed at a clean stop');
  } finally {
    removeDir(dir);
  }
});
