/**
 * @module trace/store.test
 * Round trips of rows and events through a real SQLite file, status derivation as events arrive,
 * a late row, and a second connection (another process) reading what was committed.
 * Touches: a temp directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../core/sqlite.ts';
import type { TraceMessage } from './events.ts';
import { ensureTraceSchema, insertEventsSync, insertMessageSync, readEvents, readMessage } from './store.ts';
import { getTrace } from '../stores/sqlite/trace-search.ts';
import { deriveStatus } from './status.ts';

const tempFile = (): string => join(mkdtempSync(join(tmpdir(), 'mailgate-trace-')), 'trace.db');

const full: TraceMessage = {
  id: 'Q1',
  connectionId: 'C1',
  receivedAt: 1_700_000_000_000,
  clientIp: '192.0.2.10',
  clientPort: 50123,
  helo: 'printer.example.com',
  listener: 'mx',
  tlsVersion: 'TLSv1.3',
  tlsCipher: 'TLS_AES_256_GCM_SHA384',
  certSubject: 'CN=printer',
  authUser: 'scanner',
  mailFrom: 'scan@example.com',
  headerFrom: 'Scanner <scan@example.com>',
  recipients: ['a@example.com', 'b@example.com'],
  subject: 'Scan ✓',
  size: 1234,
  messageId: '<m1@example.com>',
  attribution: 'connector',
  connector: 'Printers',
  connectorType: 'OnPremises',
  connectorMatchedBy: 'ip',
  status: 'Received',
  reply: '250 2.0.0 Ok',
  reasons: ['connector-ip', 'tls'],
  source: 'gateway',
};

test('a message row with every field round trips; events come back oldest first', () => {
  const db = openDatabase(tempFile());
  ensureTraceSchema(db);
  insertMessageSync(db, full, 5);
  insertEventsSync(db, [
    { messageId: 'Q1', at: 20, event: 'RULE', detail: 'rule X' },
    { messageId: 'Q1', at: 10, event: 'RECEIVE' },
  ]);
  assert.deepEqual(readMessage(db, 'Q1'), full);
  assert.deepEqual(readEvents(db, 'Q1'), [
    { messageId: 'Q1', at: 10, event: 'RECEIVE' },
    { messageId: 'Q1', at: 20, event: 'RULE', detail: 'rule X' },
  ]);
  const raw = db.prepare('SELECT rcpt_count, recipients, reasons, spf, updated_at FROM trace_message').get();
  assert.deepEqual(raw, { rcpt_count: 2, recipients: '["a@example.com","b@example.com"]', reasons: 'connector-ip,tls', spf: null, updated_at: 5 });
  db.close();
});

test('a minimal row keeps absent optionals absent; empty reasons round trip', () => {
  const db = openDatabase(tempFile());
  const m: TraceMessage = { id: 'R1', connectionId: 'C', receivedAt: 1, clientIp: '::1', listener: 'mx', recipients: [], status: 'Rejected', reasons: [] };
  insertMessageSync(db, m);
  assert.deepEqual(readMessage(db, 'R1'), m);
  assert.equal(getTrace(db, 'nope'), undefined);
  db.close();
});

test('insert or replace keeps one row per id and leaves reserved auth columns alone', () => {
  const db = openDatabase(tempFile());
  insertMessageSync(db, full);
  db.prepare("UPDATE trace_message SET spf = 'pass' WHERE id = 'Q1'").run();
  insertMessageSync(db, { ...full, subject: 'changed' });
  assert.equal((db.prepare('SELECT count(*) AS n FROM trace_message').get() as { n: number }).n, 1);
  assert.equal(readMessage(db, 'Q1')?.subject, 'changed');
  assert.equal((db.prepare('SELECT spf FROM trace_message').get() as { spf: string }).spf, 'pass');
  db.close();
});

test('status follows the latest outcome per recipient (mixed recipients)', () => {
  const db = openDatabase(tempFile());
  insertMessageSync(db, full);
  const status = (): string | undefined => readMessage(db, 'Q1')?.status;
  insertEventsSync(db, [{ messageId: 'Q1', at: 1, event: 'RECEIVE' }]);
  assert.equal(status(), 'Received');
  insertEventsSync(db, [{ messageId: 'Q1', at: 2, event: 'DELIVER', recipient: 'a@example.com' }]);
  assert.equal(status(), 'Pending', 'b has no outcome yet');
  insertEventsSync(db, [{ messageId: 'Q1', at: 3, event: 'DEFER', recipient: 'B@example.com' }]);
  assert.equal(status(), 'Pending');
  insertEventsSync(db, [{ messageId: 'Q1', at: 4, event: 'FAIL', recipient: 'b@example.com' }]);
  assert.equal(status(), 'Failed');
  insertEventsSync(db, [{ messageId: 'Q1', at: 5, event: 'DELIVER', recipient: 'b@example.com' }]);
  assert.equal(status(), 'Delivered');
  db.close();
});

test('a row written after its delivery events takes the derived status', () => {
  const db = openDatabase(tempFile());
  insertEventsSync(db, [{ messageId: 'Q1', at: 2, event: 'DEFER' }]);
  insertMessageSync(db, full);
  assert.equal(readMessage(db, 'Q1')?.status, 'Pending');
  db.close();
});

test('deriveStatus: quarantine, whole-message events, no outcomes', () => {
  const r = ['a@x', 'b@x'];
  assert.equal(deriveStatus('Received', r, [{ event: 'RECEIVE' }]), 'Received');
  assert.equal(deriveStatus('Rejected', [], [{ event: 'REJECT' }]), 'Rejected');
  assert.equal(deriveStatus('Received', r, [{ event: 'QUARANTINE' }]), 'Quarantined');
  assert.equal(deriveStatus('Received', r, [{ event: 'QUARANTINE' }, { event: 'DELIVER' }]), 'Delivered', 'released');
  assert.equal(deriveStatus('Received', r, [{ event: 'DEFER' }]), 'Pending');
  assert.equal(deriveStatus('Received', r, [{ event: 'DELIVER', recipient: 'a@x' }, { event: 'DEFER' }, { event: 'FAIL' }]), 'Failed');
  assert.equal(deriveStatus('Received', r, [{ event: 'DELIVER', recipient: 'a@x' }, { event: 'DEFER' }]), 'Pending', 'a stays delivered');
  assert.equal(deriveStatus('Received', r, [{ event: 'DELIVER', recipient: 'a@x' }, { event: 'DELIVER' }]), 'Delivered');
  assert.equal(deriveStatus('Received', [], [{ event: 'FAIL' }]), 'Failed');
  assert.equal(deriveStatus('Received', r, [{ event: 'FAIL', recipient: 'a@x' }, { event: 'DELIVER', recipient: 'b@x' }]), 'Failed');
});

test('a second connection (another process) sees committed rows; a read-only one works too', () => {
  const file = tempFile();
  const a = openDatabase(file);
  insertMessageSync(a, full);
  insertEventsSync(a, [{ messageId: 'Q1', at: 1, event: 'RECEIVE' }]);
  const b = openDatabase(file, { readonly: true });
  const t = getTrace(b, 'Q1');
  assert.equal(t?.message.id, 'Q1');
  assert.equal(t?.events.length, 1);
  b.close();
  a.close();
});

test('older stores lose the two indexes others cover; time-window and client queries still search an index', () => {
  const db = openDatabase(tempFile());
  ensureTraceSchema(db);
  // A store from before: the single-column indexes existed.
  db.exec('CREATE INDEX trace_message_received_at ON trace_message (received_at); CREATE INDEX trace_message_client_ip ON trace_message (client_ip)');
  ensureTraceSchema(db);
  const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'trace_message'").all() as Array<{ name: string }>).map((r) => r.name);
  assert.ok(!names.includes('trace_message_received_at') && !names.includes('trace_message_client_ip'), names.join(','));
  const plan = (sql: string): string => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join('; ');
  assert.match(plan('SELECT * FROM trace_message WHERE received_at >= 1 AND received_at < 2 ORDER BY received_at DESC LIMIT 50'), /SEARCH trace_message USING INDEX trace_message_report_inbound/);
  assert.match(plan('DELETE FROM trace_message WHERE received_at < 5'), /SEARCH trace_message USING INDEX trace_message_report_inbound/);
  assert.match(plan("SELECT * FROM trace_message WHERE client_ip = '192.0.2.1' ORDER BY received_at DESC"), /SEARCH trace_message USING INDEX trace_message_client_ip_at/);
  db.close();
});
