/** The egress-gone report over a real SQLite trace: gone, too rare, still direct, still sending, new. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { egressGoneReport } from './egress-gone.ts';
import { addRow, tempTrace } from './test-rows.ts';
import type { ReportWindow } from './common.ts';

const DAY = 86_400_000;

test('egress-gone: sources split at the block date, classified, with the ones to look at first', () => {
  const t = tempTrace();
  try {
    const since = Date.UTC(2026, 10, 1);
    const block = since + 20 * DAY;
    const until = since + 30 * DAY;
    const w: ReportWindow = { since, until, requested: since, clamped: false, retentionDays: 90 };
    // A printer sending daily straight to Exchange Online (imported rows), gone after the block.
    for (let d = 0; d < 20; d++) addRow(t.db, { clientIp: '203.0.113.5', receivedAt: since + d * DAY, source: 'import:contoso', mailFrom: 'printer@contoso.com' });
    // Sent once in 20 days: nothing since does not mean much yet.
    addRow(t.db, { clientIp: '203.0.113.6', receivedAt: since + DAY, source: 'import:contoso' });
    // Still Direct Send in Exchange Online after the block: the block does not cover it.
    addRow(t.db, { clientIp: '203.0.113.7', receivedAt: since + DAY, source: 'import:contoso' });
    addRow(t.db, { clientIp: '203.0.113.7', receivedAt: block + DAY, source: 'import:contoso' });
    // Moved to the relay: seen before and after through the gateway.
    addRow(t.db, { clientIp: '10.0.0.8', receivedAt: since + DAY, attribution: 'connector', connector: 'Printers' });
    addRow(t.db, { clientIp: '10.0.0.8', receivedAt: block + DAY, attribution: 'connector', connector: 'Printers' });
    // New after the block.
    addRow(t.db, { clientIp: '10.0.0.9', receivedAt: block + 2 * DAY });
    // Outside the window: ignored.
    addRow(t.db, { clientIp: '203.0.113.99', receivedAt: since - DAY, source: 'import:contoso' });

    const r = egressGoneReport(t.db, w, { blockAt: block });
    assert.deepEqual(r.sources.map((s) => [s.clientIp, s.status, s.before, s.after]), [
      ['203.0.113.7', 'still-direct', 1, 1],
      ['203.0.113.5', 'gone', 20, 0],
      ['203.0.113.6', 'too-rare-to-tell', 1, 0],
    ]);
    const gone = r.sources[1];
    assert.equal(gone?.expectedAfter, 10);
    assert.deepEqual(gone?.senders, ['printer@contoso.com']);
    assert.deepEqual(gone?.sources, ['import:contoso']);
    assert.match(r.summary[0] ?? '', /^1 source\(s\) stopped sending after the block on 2026-11-21/);

    const all = egressGoneReport(t.db, w, { blockAt: block, all: true });
    assert.deepEqual(all.sources.map((s) => s.status).slice(3), ['still-sending', 'new']);
    assert.deepEqual(egressGoneReport(t.db, w, { blockAt: block, source: 'gateway', all: true }).sources.map((s) => s.clientIp), ['10.0.0.8', '10.0.0.9']);
    assert.throws(() => egressGoneReport(t.db, w, { blockAt: until + DAY }), RangeError);
  } finally {
    t.close();
  }
});
