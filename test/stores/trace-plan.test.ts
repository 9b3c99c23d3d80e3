/**
 * @module test/stores/trace-plan.test
 * The audit plan over every adapter (SQLite; PostgreSQL when present): a plan built on a node whose
 * local trace is empty, reading a TraceStore that holds the rows (a fleet's shared trace, imported
 * rows included), is the plan built over a SQLite trace holding the same rows — data sources, rows
 * in the window, sources, stages, and the "no data in the window" refusal.
 * Touches: temp directories; a PostgreSQL schema per test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPlan } from '../../src/audit/plan.ts';
import { sqliteTraceStore } from '../../src/stores/sqlite/trace-store.ts';
import type { TraceMessage } from '../../src/trace/index.ts';
import { reportWindow } from '../../src/trace/reports/index.ts';
import { tempTrace, traceRow } from '../../src/trace/reports/test-rows.ts';
import { traceAdapters } from '../helpers/trace-adapters.ts';

const DAY = 86_400_000;

function rows(now: number): TraceMessage[] {
  const out: TraceMessage[] = [];
  for (let i = 0; i < 6; i++) {
    out.push(traceRow({ receivedAt: now - (i + 1) * 3_600_000, clientIp: '10.0.0.9', mailFrom: 'scanner@contoso.com', helo: 'mfp.contoso.com' }));
    out.push(traceRow({ receivedAt: now - (i + 1) * 3_700_000, clientIp: '203.0.113.7', mailFrom: `ceo${i % 2}@contoso.com`, helo: 'x.example', auth: { spf: 'fail', dmarc: 'fail' } }));
  }
  out.push(traceRow({ receivedAt: now - 2 * DAY, clientIp: '198.51.100.4', mailFrom: 'app@contoso.com', listener: 'exo:inbound', source: 'import:tenant', attribution: 'direct-send' }));
  out.push(traceRow({ receivedAt: now - 200 * DAY, clientIp: '198.51.100.5', mailFrom: 'old@contoso.com', source: 'import:old', listener: 'exo:inbound' }));
  return out;
}

for (const a of await traceAdapters()) {
  test(`${a.name}: the audit plan read through a TraceStore equals the plan over a SQLite trace with the same rows`, { skip: a.skip, timeout: 60_000 }, async (t) => {
    const store = await a.open(t);
    const ref = tempTrace();
    const empty = tempTrace();
    t.after(() => {
      ref.close();
      empty.close();
    });
    const now = Date.now();
    const messages = rows(now);
    await store.write({ messages, events: [] });
    await sqliteTraceStore(ref.db).write({ messages, events: [] });
    const cases = [
      { window: reportWindow('30d', now, 90) },
      { window: reportWindow('30d', now, 90), source: 'gateway' },
      { window: reportWindow('30d', now, 90), source: 'import:tenant', tenantDomains: ['contoso.com'] },
      { window: reportWindow('7d', now - 150 * DAY, 400), source: 'import:old' },
      { window: reportWindow('7d', now - 100 * DAY, 400) },
    ];
    for (const c of cases) {
      const o = { ...c, now };
      const expected = await buildPlan(ref.db, { ...o, trace: sqliteTraceStore(ref.db) });
      const fleet = await buildPlan(empty.db, { ...o, trace: store });
      assert.deepEqual(fleet, expected, JSON.stringify(c));
      // The node's own (empty) SQLite trace: the rows are not there.
      const local = await buildPlan(empty.db, { ...o, trace: sqliteTraceStore(empty.db) });
      assert.equal(local.rowsInWindow, 0);
    }
    const all = await buildPlan(empty.db, { window: reportWindow('30d', now, 90), now, trace: store });
    assert.equal(all.rowsInWindow, 13);
    assert.deepEqual(all.data.map((d) => [d.source, d.rows]), [['gateway', 12], ['import:old', 1], ['import:tenant', 1]]);
    assert.ok(all.sources.length >= 2);
    // The advice read from the fleet's trace is safe: the spoofing source (SPF and DMARC fail) gets
    // no connector and is listed as refused; an empty window recommends nothing.
    assert.ok(!all.connectors.some((c) => c.ip === '203.0.113.7'), 'no connector for a likely spoof');
    assert.ok(!all.authorisedIps.includes('203.0.113.7'));
    assert.ok(all.refused.some((x) => x.clientIp === '203.0.113.7' && x.classification === 'likely-spoof'));
    const none = await buildPlan(empty.db, { window: reportWindow('7d', now - 100 * DAY, 400), now, trace: store });
    assert.match(none.refusal ?? '', /^no data in the window .*import old holds/);
    assert.match(none.summary[0] ?? '', /^RejectDirectSend not recommended: /);
    assert.deepEqual(none.connectors, []);
  });
}
