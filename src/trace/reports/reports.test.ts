/** Inbound messages report, stale-allow report and the retention-clamped window, over every trace store adapter (SQLite; PostgreSQL when present). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authWord, reportWindow, tlsLabel } from './common.ts';
import { inboundReportFrom } from './inbound.ts';
import { staleAllowReportFrom } from './stale-allow.ts';
import { traceRow, type RowSpec } from './test-rows.ts';
import type { TraceStore } from '../trace-store.ts';
import { traceAdapters } from '../../../test/helpers/trace-adapters.ts';

const adapters = await traceAdapters();
const add = (store: TraceStore, o: RowSpec): Promise<void> => store.write({ messages: [traceRow(o)], events: [] });

const DAY = 86_400_000;

test('window: --since beyond retention is clamped with a note', () => {
  const now = Date.UTC(2025, 5, 1);
  const w = reportWindow('400d', now, 90);
  assert.equal(w.clamped, true);
  assert.equal(w.since, now - 90 * DAY);
  assert.equal(w.note, '--since 400d reaches beyond the trace retention (trace.retentionDays = 90); using the last 90 days (imported data is kept: --source import:NAME reports on all of it)');
  const ok = reportWindow('7d', now, 90);
  assert.equal(ok.clamped, false);
  assert.equal(ok.since, now - 7 * DAY);
  assert.throws(() => reportWindow('soon', now, 90), /invalid time window/);
});

test('labels: TLS and authentication words', () => {
  assert.deepEqual(['TLSv1.3', 'TLSv1.2', 'TLSv1', 'TLS1.1', undefined, 'SSLv3'].map(tlsLabel), ['TLS 1.3', 'TLS 1.2', 'TLS 1.0', 'TLS 1.1', 'No TLS', 'TLS (other)']);
  assert.deepEqual(['pass', 'Fail', 'spf=softfail', 'pass (x)', null, ''].map(authWord), ['pass', 'fail', 'softfail', 'pass', 'unknown', 'unknown']);
});

for (const a of adapters) test(`${a.name}: inbound: per day and total by connector, type and TLS; filters match trace search`, { skip: a.skip }, async (ctx) => {
  const db = await a.open(ctx);
  {
    const d1 = Date.UTC(2025, 4, 10, 12);
    const d2 = Date.UTC(2025, 4, 11, 12);
    await add(db, { receivedAt: d1 });
    await add(db, { receivedAt: d1 + 1, status: 'Rejected', reply: '550 5.7.68 x' });
    await add(db, { receivedAt: d2 });
    await add(db, { receivedAt: d2, tlsVersion: 'TLSv1.3' });
    await add(db, { receivedAt: d2, tlsVersion: 'TLSv1.2', attribution: 'connector', connector: 'Printers', connectorType: 'Partner', clientIp: '127.0.0.10' });
    await add(db, { receivedAt: d2, tlsVersion: 'TLSv1.2', attribution: 'connector', connector: 'OnPrem', connectorType: 'OnPremises', clientIp: '127.0.0.30' });
    await add(db, { receivedAt: d2 - 100 * DAY }); // outside the window
    const w = { since: Date.UTC(2025, 4, 9), until: Date.UTC(2025, 4, 12), requested: 0, clamped: false, retentionDays: 90 };
    const r = await inboundReportFrom(db, w);
    assert.deepEqual(r.sections[0]?.rows, [
      { date: '2025-05-10', connector: 'No connector', connectorType: 'none', tls: 'No TLS', messages: 2, rejected: 1, accepted: 1 },
      { date: '2025-05-11', connector: 'No connector', connectorType: 'none', tls: 'No TLS', messages: 1, rejected: 0, accepted: 1 },
      { date: '2025-05-11', connector: 'No connector', connectorType: 'none', tls: 'TLS 1.3', messages: 1, rejected: 0, accepted: 1 },
      { date: '2025-05-11', connector: 'OnPrem', connectorType: 'onpremises', tls: 'TLS 1.2', messages: 1, rejected: 0, accepted: 1 },
      { date: '2025-05-11', connector: 'Printers', connectorType: 'partner', tls: 'TLS 1.2', messages: 1, rejected: 0, accepted: 1 },
    ]);
    assert.deepEqual(r.sections[1]?.rows[0], { connector: 'No connector', connectorType: 'none', tls: 'No TLS', messages: 3, rejected: 1, accepted: 2 });
    assert.equal(r.summary[0], 'total: 6 messages (5 accepted, 1 rejected)');
    // The canonical Direct Send audit view, and the messages behind it.
    const ds = await inboundReportFrom(db, w, { connectorType: 'none', tls: 'none' });
    assert.deepEqual(ds.sections[1]?.rows.map((x) => x.messages), [3]);
    assert.equal((await db.search({ since: w.since, until: w.until, connectorType: 'none', tls: 'none' })).length, 3);
    assert.equal((await inboundReportFrom(db, w, { connectorType: 'partner' })).summary[0], 'total: 1 messages (1 accepted, 0 rejected)');
    assert.equal((await db.search({ since: w.since, until: w.until, connectorType: 'partner' })).length, 1);
    assert.equal((await inboundReportFrom(db, w, { connectorType: 'onpremises', tls: '1.2' })).summary[0], 'total: 1 messages (1 accepted, 0 rejected)');
    assert.equal((await db.search({ since: w.since, until: w.until, connectorType: 'onpremises', tls: '1.2' })).length, 1);
    assert.equal((await inboundReportFrom(db, w, { connector: 'printers' })).summary[0], 'total: 1 messages (1 accepted, 0 rejected)');
    assert.equal((await inboundReportFrom(db, w, { attribution: 'connector' })).summary[0], 'total: 2 messages (2 accepted, 0 rejected)');
  }
});

for (const a of adapters) test(`${a.name}: stale-allow: connectors, connector IPs and allow entries without traffic`, { skip: a.skip }, async (ctx) => {
  const db = await a.open(ctx);
  {
    await add(db, { clientIp: '127.0.0.10', attribution: 'connector', connector: 'Printers', connectorType: 'Partner' });
    await add(db, { clientIp: '::ffff:192.0.2.7', attribution: 'anonymous-external', mailFrom: 'a@partner.test' });
    await add(db, { clientIp: '192.0.2.8', attribution: 'anonymous-external', mailFrom: 'b@mail.vendor.test', receivedAt: Date.now() - 200 * DAY });
    const input = {
      connectors: [
        { name: 'Printers', enabled: true, senderIPAddresses: ['127.0.0.10/32', '127.0.0.11'] },
        { name: 'Old partner', enabled: false, senderIPAddresses: ['198.51.100.0/24'] },
      ],
      allow: { ips: ['192.0.2.0/29', '203.0.113.5'], senderDomains: ['partner.test', '*.vendor.test'] },
    };
    const w = reportWindow('90d', Date.now(), 90);
    const r = await staleAllowReportFrom(db, w, input);
    assert.deepEqual(
      r.entries.map((e) => `${e.kind} ${e.connector} ${e.entry} ${e.enabled}`),
      ['connector-ip Printers 127.0.0.11 true', 'connector Old partner Old partner false', 'connector-ip Old partner 198.51.100.0/24 false', 'allow-ip  203.0.113.5 true', 'allow-domain  *.vendor.test true'],
    );
    assert.equal(r.summary[0], `5 of 9 connectors, connector IPs and allow-list entries matched no traffic since ${new Date(w.since).toISOString()}`);
    const all = await staleAllowReportFrom(db, w, input, { includeUsed: true });
    assert.equal(all.entries.find((e) => e.entry === '127.0.0.10/32')?.messages, 1);
    assert.equal(all.entries.find((e) => e.entry === '192.0.2.0/29')?.messages, 1);
    assert.equal(all.entries.find((e) => e.entry === 'partner.test')?.messages, 1);
  }
});
