/**
 * @module test/stores/trace-rule-hits.test
 * Transport rule hits on every adapter (SQLite; PostgreSQL when present) over identical RULE
 * events: counts per rule and mode (audit actions united, non-hits ignored), and the latest
 * samples of one rule and mode (case and " mode=" in names decided by the parsed detail, LIKE
 * wildcards escaped, newest first with ties to the latest written, `limit` exact). On PostgreSQL,
 * events of two nodes count, and the ops functions on a fleet node read the fleet's trace.
 * Touches: a temp directory; a PostgreSQL schema per test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ruleHitCountsFrom } from '../../src/trace/reports/index.ts';
import { traceRow } from '../../src/trace/reports/test-rows.ts';
import type { SequencedEvent, TraceStore } from '../../src/trace/index.ts';
import { openPg, postgresAdapter, traceAdapters } from '../helpers/trace-adapters.ts';
import { apiFixture } from '../helpers/api.ts';
import { ruleHits, wouldHaveHits } from '../../src/ops/rule-hits.ts';
import { addRule } from '../../src/ops/rules.ts';

const T0 = 1_700_000_000_000;
const MIN = 60_000;

async function seed(store: TraceStore, base = T0): Promise<void> {
  const messages = ['M1', 'M2', 'M3', 'M4', 'M5'].map((id, i) => traceRow({ id, receivedAt: base + i * MIN, clientIp: `192.0.2.${i + 1}`, subject: `s${i + 1}` }));
  let seq = 0;
  const ev = (messageId: string, at: number, detail: string): SequencedEvent => ({ messageId, at, event: 'RULE', detail, seq: ++seq });
  const events = [
    ev('M1', base + 1000, 'rule Tag_x mode=Audit ran=none would-have-run=SetHeader'),
    ev('M2', base + MIN + 1000, 'rule Tag_x mode=Audit ran=none would-have-run=SetHeader+Redirect'),
    // Same ms as M2's hit, written later: it comes first.
    ev('M3', base + MIN + 1000, 'rule Tag_x mode=Audit ran=none would-have-run=SetHeader'),
    ev('M4', base + 3 * MIN, 'rule TAG_X mode=Audit ran=none would-have-run=SetHeader'), // another rule (case)
    ev('M4', base + 3 * MIN, 'rule Tagyx mode=Audit ran=none would-have-run=SetHeader'), // '_' is no wildcard
    ev('M5', base + 4 * MIN, 'rule Tag_x mode=Enforce ran=SetHeader'),
    ev('M5', base + 4 * MIN, 'redirected to x'), // not a hit
    ev('M5', base + 90 * MIN, 'rule Tag_x mode=Audit ran=none would-have-run=Quarantine'), // out of the window
  ];
  // Two writers on PostgreSQL; SQLite keeps write order as its own.
  await store.write({ node: 'n1', messages, events: events.slice(0, 4) });
  await store.write({ node: 'n1', messages: [], events: events.slice(4) });
}

for (const a of await traceAdapters()) {
  test(`${a.name}: rule hit counts and samples`, { skip: a.skip }, async (t) => {
    const store = await a.open(t);
    await seed(store);
    const counts = await ruleHitCountsFrom(store, T0, T0 + 60 * MIN);
    assert.deepEqual(
      counts.map((c) => [c.rule, c.mode, c.hits, c.lastAt, c.wouldHave]),
      [
        ['Tag_x', 'Audit', 3, T0 + MIN + 1000, ['SetHeader', 'Redirect']],
        ['Tag_x', 'Enforce', 1, T0 + 4 * MIN, []],
        ['TAG_X', 'Audit', 1, T0 + 3 * MIN, ['SetHeader']],
        ['Tagyx', 'Audit', 1, T0 + 3 * MIN, ['SetHeader']],
      ].sort((x, y) => String(x[0]).localeCompare(String(y[0])) || String(x[1]).localeCompare(String(y[1]))),
    );
    const samples = await store.ruleHitSamples('Tag_x', 'Audit', T0, T0 + 60 * MIN, 10);
    assert.deepEqual(samples.map((s) => [s.id, s.at, s.clientIp, s.subject]), [
      ['M3', T0 + MIN + 1000, '192.0.2.3', 's3'],
      ['M2', T0 + MIN + 1000, '192.0.2.2', 's2'],
      ['M1', T0 + 1000, '192.0.2.1', 's1'],
    ]);
    assert.deepEqual((await store.ruleHitSamples('Tag_x', 'Audit', T0, T0 + 60 * MIN, 2)).map((s) => s.id), ['M3', 'M2']);
    assert.deepEqual(await store.ruleHitSamples('nope', 'Audit', T0, T0 + 60 * MIN, 2), []);
  });

  test(`${a.name}: rule hit samples past many case-folded look-alikes (pages, ties on time)`, { skip: a.skip }, async (t) => {
    const store = await a.open(t);
    await seed(store);
    const decoys = Array.from({ length: 1200 }, (_, i): SequencedEvent => ({ messageId: 'M4', at: T0 + 30 * MIN, event: 'RULE', detail: 'rule TAG_X mode=Audit ran=none would-have-run=SetHeader', seq: 100 + i }));
    await store.write({ node: 'n1', messages: [], events: decoys });
    assert.deepEqual((await store.ruleHitSamples('Tag_x', 'Audit', T0, T0 + 60 * MIN, 2)).map((s) => s.id), ['M3', 'M2']);
    assert.equal((await store.ruleHitSamples('TAG_X', 'Audit', T0, T0 + 60 * MIN, 1000)).length, 1000);
  });
}

test('ops rule hits on a fleet node read the fleet trace, not the node\'s SQLite file', { skip: (await postgresAdapter()).skip }, async (t) => {
  const f = await apiFixture();
  t.after(() => f.close());
  const { store } = await openPg(t);
  const now = Date.now();
  await seed(store, now - 2 * 3_600_000);
  const ops = f.deps.ops('test');
  await addRule(ops, { name: 'Tag_x', mode: 'Audit', conditions: { attributionIs: ['direct-send'] }, actions: { quarantine: true } });
  assert.equal((await ruleHits(ops, { now })).rules.find((r) => r.name === 'Tag_x')?.wouldHave, 0, "this node's file is empty");
  const fleet = { ...ops, trace: store };
  const r = (await ruleHits(fleet, { now })).rules.find((x) => x.name === 'Tag_x');
  assert.deepEqual([r?.wouldHave, r?.enforced], [4, 1], 'the last 7 days: the later Audit hit too');
  const w = await wouldHaveHits(fleet, 'tag_x', { now, limit: 2 });
  assert.deepEqual([w.wouldHave, w.messages.map((m) => m.id)], [4, ['M5', 'M3']]);
});
