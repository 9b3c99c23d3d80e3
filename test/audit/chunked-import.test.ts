/**
 * @module test/audit/chunked-import.test
 * A chunked import (ImportOptions.chunkRows: the API's upload into a running gateway's store)
 * writes what a one-transaction import writes (the same copies, duplicates merged alike, the same
 * counts), holds no write lock while it reads its files (another connection takes the lock with
 * no wait at every turn of the event loop during the import; the one-transaction import, for
 * contrast, makes it wait), and importing the same file again adds nothing.
 * Touches: temporary data directories.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/core/sqlite.ts';
import { importFiles, type ImportOptions } from '../../src/audit/index.ts';
import { ensureTraceSchema, insertMessageSync } from '../../src/trace/index.ts';
import { cli, removeDir, tempDir } from '../helpers/gateway.ts';
import { csv, emailEventsCsv, emailEventsRows, MESSAGE_TRACE_HEADER, usTime, write } from './fixtures.ts';

const NOW = Date.UTC(2026, 10, 20, 12);

function traceOfEvents(): string {
  const rows = emailEventsRows(NOW).map((r) => [usTime(Date.parse(r.Timestamp!)), r.SenderMailFromAddress!, r.RecipientEmailAddress!, r.Subject!, 'Delivered', '', r.SenderIPv4!, '1000', r.InternetMessageId!, r.NetworkMessageId!]);
  return csv(MESSAGE_TRACE_HEADER, [...rows, rows[1]!]);
}

/** A message trace of `n` Direct Send rows (about 130 bytes each). */
function bigTrace(n: number): string {
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    rows.push([usTime(NOW - i * 1000), `scanner${i % 50}@contoso.com`, `user${i % 997}@contoso.com`, `Scan ${i}`, 'Delivered', '', `203.0.113.${i % 200}`, '5000', `<m${i}@printer>`, `bbbbbbbb-0000-0000-0000-${i.toString().padStart(12, '0')}`]);
  }
  return csv(MESSAGE_TRACE_HEADER, rows);
}

const ROW_COLUMNS = 'import_key, connection_id, received_at, client_ip, listener, mail_from, header_from, recipients, subject, size, internet_message_id, attribution, connector, status, source, spf, dkim, dmarc, compauth, exo_verdicts, import_name';

async function withStore<T>(fn: (db: Db, dir: string) => Promise<T>): Promise<T> {
  const dir = tempDir('mailgate-chunked-');
  try {
    assert.equal(cli(dir, ['init']).code, 0);
    const db = openDatabase(join(dir, 'mailgate.db'));
    try {
      ensureTraceSchema(db);
      insertMessageSync(db, { id: 'G1', connectionId: 'C', receivedAt: NOW, clientIp: '192.0.2.1', listener: 'mx', recipients: ['a@contoso.com'], status: 'Delivered', source: 'gateway' });
      return await fn(db, dir);
    } finally {
      db.close();
    }
  } finally {
    removeDir(dir);
  }
}

test('a chunked import writes what a one-transaction import writes; a second run adds nothing', async () => {
  const results: { rows: unknown[]; counts: number[][]; directSend: number }[] = [];
  for (const chunkRows of [undefined, 2]) {
    await withStore(async (db, dir) => {
      const trace = write(dir, 'trace.csv', traceOfEvents(), 'utf8');
      const events = write(dir, 'events.csv', emailEventsCsv(NOW), 'utf8');
      const opts: ImportOptions = { name: 'both', tenantDomains: ['contoso.com'], chunkRows };
      const s = await importFiles(db, [trace, events], opts);
      const rows = db.prepare(`SELECT ${ROW_COLUMNS} FROM trace_message WHERE import_name = 'both' ORDER BY import_key`).all();
      results.push({ rows, counts: s.files.map((f) => [f.rows, f.inserted, f.duplicates]), directSend: s.directSend });
      assert.equal(s.dataset.rows, 4);
      if (chunkRows !== undefined) {
        const again = await importFiles(db, [trace], opts);
        assert.deepEqual(again.files.map((f) => [f.rows, f.inserted, f.duplicates]), [[5, 0, 5]], 'idempotent by import_key');
      }
    });
  }
  assert.deepEqual(results[1], results[0]);
  assert.deepEqual(results[0]!.counts, [[5, 4, 1], [4, 0, 4]]);
});

/** Import `file` while, at every turn of the event loop, another connection tries the write lock without waiting. */
async function lockTries(db: Db, dir: string, file: string, chunkRows: number | undefined): Promise<{ free: number; busy: number; rows: number }> {
  const other = openDatabase(join(dir, 'mailgate.db'));
  other.pragma('busy_timeout = 0');
  let done = false;
  let free = 0;
  let busy = 0;
  const probe = (): void => {
    if (done) return;
    try {
      other.exec('BEGIN IMMEDIATE');
      other.exec('ROLLBACK');
      free++;
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_BUSY') throw e;
      busy++;
    }
    setImmediate(probe);
  };
  try {
    setImmediate(probe);
    const s = await importFiles(db, [file], { name: 'big', tenantDomains: ['contoso.com'], chunkRows });
    return { free, busy, rows: s.files[0]!.inserted };
  } finally {
    done = true;
    other.close();
  }
}

test('a chunked import holds no write lock while it reads (a one-transaction import does)', async () => {
  const n = 25_000; // about 3 MiB: several 1 MiB reads, each an await
  await withStore(async (db, dir) => {
    const file = write(dir, 'big.csv', bigTrace(n), 'utf8');
    const chunked = await lockTries(db, dir, file, 5_000);
    assert.equal(chunked.rows, n);
    assert.ok(chunked.free > 0, 'the probe ran during the import');
    assert.equal(chunked.busy, 0, 'the write lock was free at every turn of the event loop');
  });
  await withStore(async (db, dir) => {
    const file = write(dir, 'big.csv', bigTrace(n), 'utf8');
    const whole = await lockTries(db, dir, file, undefined);
    assert.equal(whole.rows, n);
    assert.ok(whole.busy > 0, 'the one-transaction import keeps other writers waiting (what the chunks avoid)');
  });
});

test('audit import beside a running gateway imports in chunks and says so; without one it does not', async () => {
  const imported = (dir: string): [string, number][] =>
    (JSON.parse(cli(dir, ['audit', 'list', '--format', 'json']).stdout) as { name: string; rows: number }[]).map((s) => [s.name, s.rows]);
  await withStore(async (_db, dir) => {
    const file = write(dir, 'big.csv', bigTrace(12_000), 'utf8');
    const alone = cli(dir, ['audit', 'import', file, '--name', 'alone']);
    assert.equal(alone.code, 0, alone.stderr);
    assert.doesNotMatch(alone.stderr, /importing in chunks/);
    assert.deepEqual(imported(dir), [['alone', 12_000]]);
  });
  await withStore(async (_db, dir) => {
    const file = write(dir, 'big.csv', bigTrace(12_000), 'utf8');
    // A process that passes for `mailgate serve` (its command line has "serve"), named by serve.pid.
    const fake = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)', 'serve'], { stdio: 'ignore' });
    try {
      writeFileSync(join(dir, 'serve.pid'), `${fake.pid}\n`);
      const beside = cli(dir, ['audit', 'import', file, '--name', 'beside']);
      assert.equal(beside.code, 0, beside.stderr);
      assert.match(beside.stderr, new RegExp(`a gateway \\(PID ${fake.pid}\\) runs on this data directory: importing in chunks of 5,000 rows`));
      assert.deepEqual(imported(dir), [['beside', 12_000]]);
    } finally {
      fake.kill('SIGKILL');
    }
  });
});
