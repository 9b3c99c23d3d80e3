/**
 * @module trace/writer.test
 * The buffered writer: appends never write synchronously; many appends become one transaction;
 * a full buffer flushes on the next turn; the timer flushes; close flushes; a failing store keeps
 * the records and retries them (bounded by maxRetained; the rest dropped and counted); the timer
 * does not keep a process alive.
 * Touches: a temp directory; spawns one node child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openDatabase, type Db } from '../core/sqlite.ts';
import type { TraceMessage } from './events.ts';
import { TraceWriter } from './writer.ts';

const tempFile = (): string => join(mkdtempSync(join(tmpdir(), 'mailgate-trace-')), 'trace.db');
const row = (id: string): TraceMessage => ({
  id, connectionId: 'C', receivedAt: 1000, clientIp: '192.0.2.1', listener: 'mx', recipients: ['a@example.com'], status: 'Received',
});
const count = (db: Db, table: string): number => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

test('many appends become one flush, visible to another connection after the timer', async () => {
  const file = tempFile();
  const w = new TraceWriter(openDatabase(file), { flushMs: 30 });
  const other = openDatabase(file);
  for (let i = 0; i < 100; i++) {
    w.message(row(`Q${i}`));
    w.event({ messageId: `Q${i}`, at: 1, event: 'RECEIVE' });
    w.event({ messageId: `Q${i}`, at: 2, event: 'DELIVER', recipient: 'a@example.com' });
  }
  assert.equal(count(other, 'trace_message'), 0, 'nothing written on the append path');
  assert.equal(w.pending, 300);
  await sleep(120);
  assert.equal(w.flushes, 1);
  assert.equal(w.written, 300);
  assert.equal(w.pending, 0);
  assert.equal(count(other, 'trace_message'), 100);
  assert.equal(count(other, 'trace_event'), 200);
  const delivered = other.prepare("SELECT count(*) AS n FROM trace_message WHERE status = 'Delivered'").get() as { n: number };
  assert.equal(delivered.n, 100, 'status derived inside the flush');
  w.close();
  other.close();
});

test('reaching maxBuffer flushes on the next turn, not inside the append', async () => {
  const w = new TraceWriter(openDatabase(tempFile()), { flushMs: 60_000, maxBuffer: 10 });
  for (let i = 0; i < 10; i++) w.event({ messageId: 'Q', at: i, event: 'RULE' });
  assert.equal(w.flushes, 0);
  await new Promise((r) => setImmediate(r));
  assert.equal(w.flushes, 1);
  assert.equal(w.written, 10);
  w.close();
});

test('close flushes what is buffered; later appends are dropped and counted', () => {
  const file = tempFile();
  const w = new TraceWriter(openDatabase(file), { flushMs: 60_000 });
  w.message(row('Q1'));
  w.event({ messageId: 'Q1', at: 1, event: 'RECEIVE' });
  w.close();
  const other = openDatabase(file);
  assert.equal(count(other, 'trace_message'), 1);
  assert.equal(count(other, 'trace_event'), 1);
  w.event({ messageId: 'Q1', at: 2, event: 'RULE' });
  assert.equal(w.dropped, 1);
  other.close();
});

test('a locked store: the records are kept and retried until written, with what came meanwhile; busy timeout restored', () => {
  const file = tempFile();
  const db = openDatabase(file);
  const w = new TraceWriter(db, { flushMs: 60_000, busyTimeoutMs: 5 });
  const locker = openDatabase(file);
  locker.exec('BEGIN IMMEDIATE');
  w.message(row('Q1'));
  w.flush();
  w.event({ messageId: 'Q1', at: 1, event: 'RECEIVE' });
  w.flush();
  w.flush();
  assert.equal(w.flushes, 0);
  assert.equal(w.failures, 3);
  assert.equal(w.pending, 2, 'nothing dropped while the store fails');
  assert.equal(w.dropped, 0);
  assert.equal(db.pragma('busy_timeout', { simple: true }), 10000);
  locker.exec('COMMIT');
  w.flush();
  assert.equal(w.flushes, 1, 'retry succeeded');
  assert.equal(count(locker, 'trace_message'), 1);
  assert.equal(count(locker, 'trace_event'), 1);
  w.close();
  locker.close();
});

test('records kept while writes fail are bounded by maxRetained (the oldest go, counted); close drops and counts the rest', () => {
  const file = tempFile();
  const db = openDatabase(file);
  const w = new TraceWriter(db, { flushMs: 60_000, busyTimeoutMs: 5, maxRetained: 3 });
  const locker = openDatabase(file);
  locker.exec('BEGIN IMMEDIATE');
  for (const id of ['Q1', 'Q2']) w.message(row(id));
  for (let i = 0; i < 3; i++) w.event({ messageId: 'Q1', at: i, event: 'RECEIVE' });
  w.flush();
  assert.equal(w.pending, 3);
  assert.equal(w.dropped, 2);
  w.close();
  assert.equal(w.dropped, 5);
  locker.exec('COMMIT');
  assert.equal(count(locker, 'trace_message') + count(locker, 'trace_event'), 0);
  locker.close();
});

test('the flush timer does not keep the process alive', () => {
  const script = `
    import { openDatabase } from ${JSON.stringify(new URL('../core/sqlite.ts', import.meta.url).href)};
    import { TraceWriter } from ${JSON.stringify(new URL('./writer.ts', import.meta.url).href)};
    const w = new TraceWriter(openDatabase(${JSON.stringify(tempFile())}), { flushMs: 60000 });
    w.event({ messageId: 'Q', at: 1, event: 'RECEIVE' });
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
