/**
 * @module trace/search.test
 * searchTrace by each filter (window, sender, recipient, status, attribution, connector incl.
 * none, client IP exact/CIDR/IPv6/mapped, TLS incl. none, limit) and its errors.
 * Touches: a temp directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../core/sqlite.ts';
import type { TraceMessage } from './events.ts';
import { searchTrace, type TraceFilter } from './search.ts';
import { insertMessageSync } from './store.ts';

const base = { connectionId: 'C', listener: 'mx', status: 'Received' as const };
const rows: TraceMessage[] = [
  { ...base, id: 'A', receivedAt: 1000, clientIp: '127.0.0.1', mailFrom: 'Scanner@Corp.example', recipients: ['x@corp.example'], attribution: 'direct-send', tlsVersion: 'TLSv1.2' },
  { ...base, id: 'B', receivedAt: 2000, clientIp: '192.0.2.7', mailFrom: 'news@list.example', headerFrom: 'Boss <CEO@corp.example>', recipients: ['y@corp.example', 'Zoë@corp.example'], attribution: 'connector', connector: 'Printers', tlsVersion: 'TLSv1.3', status: 'Delivered' },
  { ...base, id: 'C', receivedAt: 3000, clientIp: '::ffff:127.9.9.9', recipients: [], attribution: 'relay-denied', status: 'Rejected' },
  { ...base, id: 'D', receivedAt: 4000, clientIp: '2001:db8::25', mailFrom: 'app@partner.example', recipients: ['q@corp.example'], attribution: 'connector', connector: 'partner', tlsVersion: 'TLSv1' },
  { ...base, id: 'E', receivedAt: 5000, clientIp: '128.0.0.1', mailFrom: '', recipients: ['"odd,user"@corp.example'], attribution: 'anonymous-external' },
];

function seeded(): Db {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'mailgate-trace-')), 'trace.db'));
  for (const r of rows) insertMessageSync(db, r);
  return db;
}
const db = seeded();
const ids = (f: TraceFilter): string => searchTrace(db, f).map((m) => m.id).join('');

test('no filter: everything, newest first; limit', () => {
  assert.equal(ids({}), 'EDCBA');
  assert.equal(ids({ limit: 2 }), 'ED');
  assert.throws(() => searchTrace(db, { limit: 0 }), /invalid limit/);
});

test('since / until window', () => {
  assert.equal(ids({ since: 3000 }), 'EDC');
  assert.equal(ids({ until: 3000 }), 'BA');
  assert.equal(ids({ since: 2000, until: 4000 }), 'CB');
});

test('sender: case-insensitive substring of MAIL FROM or header From', () => {
  assert.equal(ids({ sender: 'corp.EXAMPLE' }), 'BA');
  assert.equal(ids({ sender: 'scanner@' }), 'A');
  assert.equal(ids({ sender: 'ceo@' }), 'B');
  assert.equal(ids({ sender: 'nobody' }), '');
});

test('recipient: substring of any recipient, Unicode and quoted local parts too', () => {
  assert.equal(ids({ recipient: 'y@corp' }), 'B');
  assert.equal(ids({ recipient: 'ZOË' }), 'B');
  assert.equal(ids({ recipient: '"odd,user"' }), 'E');
  assert.equal(ids({ recipient: '","' }), '', 'never matches across JSON quoting');
  assert.equal(ids({ recipient: 'corp.example', limit: 2 }), 'ED', 'limit exact with JS checks');
});

test('status and attribution', () => {
  assert.equal(ids({ status: 'Delivered' }), 'B');
  assert.equal(ids({ status: 'Rejected' }), 'C');
  assert.equal(ids({ attribution: 'connector' }), 'DB');
  assert.equal(ids({ attribution: 'direct-send', status: 'Received' }), 'A');
});

test('connector by name (case-insensitive) or none', () => {
  assert.equal(ids({ connector: 'printers' }), 'B');
  assert.equal(ids({ connector: 'none' }), 'ECA');
});

test('client IP: exact, IPv4 CIDR (mapped IPv6 included), IPv6, bad input', () => {
  assert.equal(ids({ clientIp: '127.0.0.1' }), 'A');
  assert.equal(ids({ clientIp: '127.0.0.0/8' }), 'CA');
  assert.equal(ids({ clientIp: '127.9.9.9' }), 'C');
  assert.equal(ids({ clientIp: '0.0.0.0/0' }), 'ECBA');
  assert.equal(ids({ clientIp: '128.0.0.0/1' }), 'EB');
  assert.equal(ids({ clientIp: '2001:db8::/32' }), 'D');
  assert.equal(ids({ clientIp: '2001:DB8:0::25' }), 'D');
  assert.throws(() => searchTrace(db, { clientIp: '127.0.0/8' }), /invalid IP or CIDR/);
});

test('TLS version and none', () => {
  assert.equal(ids({ tls: '1.3' }), 'B');
  assert.equal(ids({ tls: '1.2' }), 'A');
  assert.equal(ids({ tls: '1.0' }), 'D');
  assert.equal(ids({ tls: '1.1' }), '');
  assert.equal(ids({ tls: 'none' }), 'EC');
  assert.throws(() => searchTrace(db, { tls: '2' as TraceFilter['tls'] }), /invalid TLS filter/);
});

test('filters combine', () => {
  assert.equal(ids({ tls: 'none', clientIp: '127.0.0.0/8', since: 1 }), 'C');
});

test('a read-only connection to a store without trace tables returns nothing', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'mailgate-trace-')), 'empty.db');
  openDatabase(file).close();
  const ro = openDatabase(file, { readonly: true });
  assert.deepEqual(searchTrace(ro, {}), []);
  ro.close();
});
