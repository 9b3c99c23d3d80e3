/**
 * @module trace/search.test
 * searchTrace by each filter (window, sender, recipient, status, attribution, connector incl.
 * none, client IP exact/CIDR/IPv6/mapped, TLS incl. none, limit) and its errors, on every trace
 * store adapter (SQLite, and PostgreSQL when present: test/helpers/trace-adapters).
 * Touches: a temp directory; a PostgreSQL schema per adapter run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../core/sqlite.ts';
import type { TraceMessage } from './events.ts';
import type { TraceFilter } from './search.ts';
import { searchTrace } from '../stores/sqlite/trace-search.ts';
import { traceAdapters } from '../../test/helpers/trace-adapters.ts';

const base = { connectionId: 'C', listener: 'mx', status: 'Received' as const };
const rows: TraceMessage[] = [
  { ...base, id: 'A', receivedAt: 1000, clientIp: '127.0.0.1', mailFrom: 'Scanner@Corp.example', recipients: ['x@corp.example'], attribution: 'direct-send', tlsVersion: 'TLSv1.2' },
  { ...base, id: 'B', receivedAt: 2000, clientIp: '192.0.2.7', mailFrom: 'news@list.example', headerFrom: 'Boss <CEO@corp.example>', recipients: ['y@corp.example', 'Zoë@corp.example'], attribution: 'connector', connector: 'Printers', tlsVersion: 'TLSv1.3', status: 'Delivered' },
  { ...base, id: 'C', receivedAt: 3000, clientIp: '::ffff:127.9.9.9', recipients: [], attribution: 'relay-denied', status: 'Rejected' },
  { ...base, id: 'D', receivedAt: 4000, clientIp: '2001:db8::25', mailFrom: 'app@partner.example', recipients: ['q@corp.example'], attribution: 'connector', connector: 'partner', tlsVersion: 'TLSv1' },
  { ...base, id: 'E', receivedAt: 5000, clientIp: '128.0.0.1', mailFrom: '', recipients: ['"odd,user"@corp.example'], attribution: 'anonymous-external' },
];

for (const a of await traceAdapters()) {
  test(`${a.name}: trace search`, { skip: a.skip }, async (t) => {
    const store = await a.open(t);
    await store.write({ messages: rows, events: [] });
    const ids = async (f: TraceFilter): Promise<string> => (await store.search(f)).map((m) => m.id).join('');

    await t.test('no filter: everything, newest first; limit', async () => {
      assert.equal(await ids({}), 'EDCBA');
      assert.equal(await ids({ limit: 2 }), 'ED');
      await assert.rejects(store.search({ limit: 0 }), /invalid limit/);
    });

    await t.test('since / until window', async () => {
      assert.equal(await ids({ since: 3000 }), 'EDC');
      assert.equal(await ids({ until: 3000 }), 'BA');
      assert.equal(await ids({ since: 2000, until: 4000 }), 'CB');
    });

    await t.test('sender: case-insensitive substring of MAIL FROM or header From', async () => {
      assert.equal(await ids({ sender: 'corp.EXAMPLE' }), 'BA');
      assert.equal(await ids({ sender: 'scanner@' }), 'A');
      assert.equal(await ids({ sender: 'ceo@' }), 'B');
      assert.equal(await ids({ sender: 'nobody' }), '');
    });

    await t.test('recipient: substring of any recipient, Unicode and quoted local parts too', async () => {
      assert.equal(await ids({ recipient: 'y@corp' }), 'B');
      assert.equal(await ids({ recipient: 'ZOË' }), 'B');
      assert.equal(await ids({ recipient: '"odd,user"' }), 'E');
      assert.equal(await ids({ recipient: '","' }), '', 'never matches across JSON quoting');
      assert.equal(await ids({ recipient: 'corp.example', limit: 2 }), 'ED', 'limit exact with JS checks');
    });

    await t.test('status and attribution', async () => {
      assert.equal(await ids({ status: 'Delivered' }), 'B');
      assert.equal(await ids({ status: 'Rejected' }), 'C');
      assert.equal(await ids({ attribution: 'connector' }), 'DB');
      assert.equal(await ids({ attribution: 'direct-send', status: 'Received' }), 'A');
    });

    await t.test('connector by name (case-insensitive) or none', async () => {
      assert.equal(await ids({ connector: 'printers' }), 'B');
      assert.equal(await ids({ connector: 'none' }), 'ECA');
    });

    await t.test('client IP: exact, IPv4 CIDR (mapped IPv6 included), IPv6, bad input', async () => {
      assert.equal(await ids({ clientIp: '127.0.0.1' }), 'A');
      assert.equal(await ids({ clientIp: '127.0.0.0/8' }), 'CA');
      assert.equal(await ids({ clientIp: '127.9.9.9' }), 'C');
      assert.equal(await ids({ clientIp: '0.0.0.0/0' }), 'ECBA');
      assert.equal(await ids({ clientIp: '128.0.0.0/1' }), 'EB');
      assert.equal(await ids({ clientIp: '2001:db8::/32' }), 'D');
      assert.equal(await ids({ clientIp: '2001:DB8:0::25' }), 'D');
      await assert.rejects(store.search({ clientIp: '127.0.0/8' }), /invalid IP or CIDR/);
    });

    await t.test('TLS version and none', async () => {
      assert.equal(await ids({ tls: '1.3' }), 'B');
      assert.equal(await ids({ tls: '1.2' }), 'A');
      assert.equal(await ids({ tls: '1.0' }), 'D');
      assert.equal(await ids({ tls: '1.1' }), '');
      assert.equal(await ids({ tls: 'none' }), 'EC');
      await assert.rejects(store.search({ tls: '2' as TraceFilter['tls'] }), /invalid TLS filter/);
    });

    await t.test('filters combine', async () => {
      assert.equal(await ids({ tls: 'none', clientIp: '127.0.0.0/8', since: 1 }), 'C');
    });
  });
}

test('a read-only connection to a store without trace tables returns nothing', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'mailgate-trace-')), 'empty.db');
  openDatabase(file).close();
  const ro = openDatabase(file, { readonly: true });
  assert.deepEqual(searchTrace(ro, {}), []);
  ro.close();
});
