/** The egress-gone report over every trace store adapter (SQLite; PostgreSQL when present): gone, too rare, still direct, still sending, new. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { egressGoneReportFrom } from './egress-gone.ts';
import { traceRow, type RowSpec } from './test-rows.ts';
import type { TraceStore } from '../trace-store.ts';
import { traceAdapters } from '../../../test/helpers/trace-adapters.ts';
import type { ReportWindow } from './common.ts';

const DAY = 86_400_000;

const add = (store: TraceStore, o: RowSpec): Promise<void> => store.write({ messages: [traceRow(o)], events: [] });

for (const a of await traceAdapters()) test(`${a.name}: egress-gone: sources split at the block date, classified, with the ones to look at first`, { skip: a.skip }, async (ctx) => {
  const db = await a.open(ctx);
  {
    const since = Date.UTC(2026, 10, 1);
    const block = since + 20 * DAY;
    const until = since + 30 * DAY;
    const w: ReportWindow = { since, until, requested: since, clamped: false, retentionDays: 90 };
    // A printer sending daily straight to Exchange Online (imported rows), gone after the block.
    for (let d = 0; d < 20; d++) await add(db, { clientIp: '203.0.113.5', receivedAt: since + d * DAY, source: 'import:contoso', mailFrom: 'printer@contoso.com' });
    // Sent once in 20 days: nothing since does not mean much yet.
    await add(db, { clientIp: '203.0.113.6', receivedAt: since + DAY, source: 'import:contoso' });
    // Still Direct Send in Exchange Online after the block: the block does not cover it.
    await add(db, { clientIp: '203.0.113.7', receivedAt: since + DAY, source: 'import:contoso' });
    await add(db, { clientIp: '203.0.113.7', receivedAt: block + DAY, source: 'import:contoso' });
    // Moved to the relay: seen before and after through the gateway.
    await add(db, { clientIp: '10.0.0.8', receivedAt: since + DAY, attribution: 'connector', connector: 'Printers' });
    await add(db, { clientIp: '10.0.0.8', receivedAt: block + DAY, attribution: 'connector', connector: 'Printers' });
    // New after the block.
    await add(db, { clientIp: '10.0.0.9', receivedAt: block + 2 * DAY });
    // Outside the window: ignored.
    await add(db, { clientIp: '203.0.113.99', receivedAt: since - DAY, source: 'import:contoso' });

    const r = await egressGoneReportFrom(db, w, { blockAt: block });
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

    const all = await egressGoneReportFrom(db, w, { blockAt: block, all: true });
    assert.deepEqual(all.sources.map((s) => s.status).slice(3), ['still-sending', 'new']);
    assert.deepEqual((await egressGoneReportFrom(db, w, { blockAt: block, source: 'gateway', all: true })).sources.map((s) => s.clientIp), ['10.0.0.8', '10.0.0.9']);
    await assert.rejects(egressGoneReportFrom(db, w, { blockAt: until + DAY }), RangeError);
  }
});
