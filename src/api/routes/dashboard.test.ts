import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apiFixture } from '../../../test/helpers/api.ts';
import { addRow } from '../../trace/reports/test-rows.ts';
import { insertEventsSync } from '../../trace/store.ts';
import { replyCode } from '../../trace/reports/dashboard.ts';

interface Doc {
  window: { range: string; since: number; until: number; bucketSeconds: number };
  traffic: { buckets: number[]; byAttribution: Record<string, number[]>; totals: Record<string, number>; refusals: { code: string; total: number; counts: number[] }[] };
  directSend: { sources: { clientIp: string; messages: number; isNew: boolean; subject: string | null }[]; newSources: number };
  queue: { open: number; oldestOpenAt: number | null };
  failures: { failed: number; deferred: number; recent: { messageId: string; subject: string | null }[] };
  alerts: { open: number };
  org: { rejectDirectSend: boolean; rulesInAudit: string[]; configVersion: number | null };
}

test('GET /api/v1/dashboard: traffic by attribution, refusals by code, new Direct Send sources, failures, org state', async () => {
  const f = await apiFixture();
  try {
    const now = Date.now();
    const db = f.ctx.db;
    for (let i = 0; i < 3; i++) addRow(db, { receivedAt: now - 60_000 * (i + 1), clientIp: '192.0.2.10', subject: i === 0 ? 'latest scan' : `scan ${i}` });
    addRow(db, { receivedAt: now - 3 * 86_400_000, clientIp: '192.0.2.11' });
    addRow(db, { receivedAt: now - 120_000, clientIp: '192.0.2.11' });
    addRow(db, { receivedAt: now - 120_000, attribution: 'connector', connector: 'Printers' });
    addRow(db, { receivedAt: now - 120_000, attribution: 'connector', connector: 'Printers' });
    addRow(db, { receivedAt: now - 120_000, attribution: 'authenticated', authUser: 'app@example.com' });
    addRow(db, { receivedAt: now - 120_000, attribution: 'anonymous-external', mailFrom: 'news@example.org' });
    addRow(db, { receivedAt: now - 60_000, status: 'Rejected', reply: '550 5.7.68 TenantInboundAttribution; Direct Send not allowed [T1]', clientIp: '192.0.2.12' });
    addRow(db, { receivedAt: now - 60_000, status: 'Rejected', reply: '550 5.7.68 TenantInboundAttribution; Direct Send not allowed [T2]', clientIp: '192.0.2.12' });
    addRow(db, { receivedAt: now - 60_000, status: 'Rejected', attribution: 'relay-denied', reply: '550 5.7.54 relay denied [T3]' });
    addRow(db, { receivedAt: now - 2 * 3_600_000, clientIp: '192.0.2.13' });
    addRow(db, { receivedAt: now - 60_000, source: 'import:contoso', clientIp: '192.0.2.99' });
    const failedId = addRow(db, { receivedAt: now - 60_000, status: 'Failed', subject: 'invoice' });
    insertEventsSync(db, [{ messageId: failedId, at: now - 30_000, event: 'FAIL', recipient: 'user@example.com', detail: '550 5.1.1 no such user' }]);

    assert.equal((await f.app.inject({ method: 'GET', url: '/api/v1/dashboard' })).statusCode, 401);
    assert.equal((await f.call('read', { method: 'GET', url: '/api/v1/dashboard?window=2h' })).statusCode, 400);
    const r = await f.call('read', { method: 'GET', url: '/api/v1/dashboard?window=1h' });
    assert.equal(r.statusCode, 200, r.body);
    const d = r.json<Doc>();
    assert.equal(d.window.bucketSeconds, 60);
    assert.equal(d.traffic.buckets.length, 60);
    assert.ok(d.window.until > now && d.window.since <= now - 3_540_000);
    // 3 + 1 (192.0.2.11) + 2 rejected Direct Send + the failed one; the import's row and the 2-hour-old one are out.
    assert.equal(d.traffic.totals['direct-send'], 7);
    assert.equal(d.traffic.totals.connector, 2);
    assert.equal(d.traffic.totals.authenticated, 1);
    assert.equal(d.traffic.totals['anonymous-external'], 1);
    assert.equal(d.traffic.totals.other, 1, 'relay-denied');
    assert.equal(d.traffic.byAttribution['direct-send']?.reduce((a, b) => a + b, 0), 7);
    assert.deepEqual(d.traffic.refusals.map((x) => [x.code, x.total]), [['550 5.7.68', 2], ['550 5.7.54', 1]]);
    const bySource = Object.fromEntries(d.directSend.sources.map((s) => [s.clientIp, s]));
    assert.equal(bySource['192.0.2.10']?.messages, 3);
    assert.equal(bySource['192.0.2.10']?.isNew, true);
    assert.equal(bySource['192.0.2.10']?.subject, 'latest scan', "the latest message's subject");
    assert.equal(bySource['192.0.2.11']?.isNew, false, 'seen three days ago');
    assert.equal(bySource['192.0.2.99'], undefined, 'imports are not the gateway');
    assert.equal(d.failures.failed, 1);
    assert.equal(d.failures.recent[0]?.subject, 'invoice');
    assert.equal(d.queue.open, 0);
    assert.equal(d.alerts.open, 0);
    assert.equal(d.org.rejectDirectSend, false);
    assert.ok(d.org.configVersion);
    const week = (await f.call('read', { method: 'GET', url: '/api/v1/dashboard?window=7d' })).json<Doc>();
    assert.equal(week.traffic.totals['direct-send'], 9);
    assert.equal(week.directSend.sources.find((s) => s.clientIp === '192.0.2.11')?.isNew, true, 'first seen inside the week');
  } finally {
    await f.close();
  }
});

test('replyCode keeps the reply and enhanced code only', () => {
  assert.equal(replyCode('550 5.7.68 TenantInboundAttribution; x'), '550 5.7.68');
  assert.equal(replyCode('421-4.7.0 try later'), '421 4.7.0');
  assert.equal(replyCode('554 no'), '554');
  assert.equal(replyCode(null), 'unknown');
});
