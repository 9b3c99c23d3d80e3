/**
 * @module test/stores/trace-dashboard.test
 * The dashboard's reads on every adapter (SQLite; PostgreSQL when present) over identical rows:
 * the same traffic buckets by attribution, refusals by code (ties by code), Direct Send sources
 * (volume then IP, the latest message's columns with ties by id, "new" = first seen ever inside the
 * window, imports left out) and failures (newest first, ties by message id). On PostgreSQL, rows
 * written by two nodes are all counted.
 * Touches: a temp directory; a PostgreSQL schema per test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardFrom } from '../../src/trace/reports/index.ts';
import { traceRow, type RowSpec } from '../../src/trace/reports/test-rows.ts';
import type { TraceStore } from '../../src/trace/index.ts';
import { openPg, postgresAdapter, traceAdapters } from '../helpers/trace-adapters.ts';
import { apiFixture } from '../helpers/api.ts';
import { dashboard } from '../../src/ops/dashboard.ts';
import { PgNodeStore } from '../../src/stores/postgres/node-store.ts';

const T0 = 1_700_000_040_000; // a minute boundary
const MIN = 60_000;
const w = { since: T0, until: T0 + 60 * MIN, bucketMs: MIN };

async function seed(store: TraceStore): Promise<void> {
  const r = (id: string, over: RowSpec) => traceRow({ id, ...over });
  const rows = [
    r('A1', { clientIp: '192.0.2.10', receivedAt: T0 + 5 * MIN, subject: 'older' }),
    // Two latest messages of 192.0.2.10 at the same ms: the higher id wins.
    r('A3', { clientIp: '192.0.2.10', receivedAt: T0 + 7 * MIN, subject: 'latest' }),
    r('A2', { clientIp: '192.0.2.10', receivedAt: T0 + 7 * MIN, subject: 'tied lower id' }),
    r('B0', { clientIp: '192.0.2.11', receivedAt: T0 - 86_400_000 }), // seen before the window: not new
    r('B1', { clientIp: '192.0.2.11', receivedAt: T0 + 10 * MIN }),
    r('B2', { clientIp: '192.0.2.11', receivedAt: T0 + 11 * MIN }),
    r('C1', { clientIp: '192.0.2.9', receivedAt: T0 + 12 * MIN }),
    r('C2', { clientIp: '192.0.2.9', receivedAt: T0 + 13 * MIN }), // 2 messages, like .11: IP order breaks the tie
    r('D1', { attribution: 'connector', connector: 'Printers', receivedAt: T0 + 5 * MIN }),
    r('D2', { attribution: 'authenticated', receivedAt: T0 + 59 * MIN + 59_999 }),
    r('D3', { attribution: 'relay-denied', status: 'Rejected', reply: '550 5.7.54 relay denied', receivedAt: T0 + 20 * MIN }),
    r('D4', { attribution: undefined, status: 'Rejected', reply: '421 4.7.0 try later', receivedAt: T0 + 20 * MIN }),
    r('E1', { clientIp: '192.0.2.12', status: 'Rejected', reply: '550 5.7.68 TenantInboundAttribution; no', receivedAt: T0 + 30 * MIN }),
    r('I1', { clientIp: '192.0.2.99', source: 'import:contoso', receivedAt: T0 + 30 * MIN }),
    r('X1', { clientIp: '192.0.2.10', receivedAt: T0 + 60 * MIN }), // the window's end: out
    r('F1', { attribution: 'connector', receivedAt: T0 + 40 * MIN, subject: 'invoice' }),
    r('F2', { attribution: 'connector', receivedAt: T0 + 40 * MIN, subject: 'payroll' }),
  ];
  // Two writers: on PostgreSQL the fleet's rows of both nodes are the dashboard's.
  await store.write({ node: 'n1', messages: rows.slice(0, 9), events: [] });
  await store.write({
    node: 'n2',
    messages: rows.slice(9),
    events: [
      { messageId: 'F1', at: T0 + 41 * MIN, event: 'FAIL', recipient: 'a@example.com', detail: '550 5.1.1 no such user' },
      { messageId: 'F2', at: T0 + 41 * MIN, event: 'FAIL', recipient: 'b@example.com', detail: '550 5.2.2 full' },
      { messageId: 'F1', at: T0 + 42 * MIN, event: 'DEFER', recipient: 'c@example.com', detail: '451 later' },
      { messageId: 'F1', at: T0 + 61 * MIN, event: 'FAIL', recipient: 'd@example.com', detail: 'out of the window' },
    ],
  });
}

for (const a of await traceAdapters()) {
  test(`${a.name}: dashboard traffic, sources and failures`, { skip: a.skip }, async (t) => {
    const store = await a.open(t);
    await seed(store);
    const d = await dashboardFrom(store, w);
    assert.equal(d.traffic.buckets.length, 60);
    assert.deepEqual(d.traffic.totals, { 'direct-send': 8, connector: 3, authenticated: 1, 'anonymous-external': 0, other: 2 });
    assert.equal(d.traffic.byAttribution['direct-send'][7], 2);
    assert.equal(d.traffic.byAttribution.authenticated[59], 1, 'the last ms of the window is the last bucket');
    assert.deepEqual(d.traffic.refusals.map((x) => [x.code, x.total, x.counts.findIndex((c) => c > 0)]), [
      ['421 4.7.0', 1, 20],
      ['550 5.7.54', 1, 20],
      ['550 5.7.68', 1, 30],
    ]);
    assert.deepEqual(
      d.sources.map((s) => [s.clientIp, s.messages, s.isNew, s.subject, s.firstSeen, s.lastSeen]),
      [
        ['192.0.2.10', 3, true, 'latest', T0 + 5 * MIN, T0 + 7 * MIN],
        ['192.0.2.11', 2, false, 'scan', T0 - 86_400_000, T0 + 11 * MIN],
        ['192.0.2.9', 2, true, 'scan', T0 + 12 * MIN, T0 + 13 * MIN],
        ['192.0.2.12', 1, true, 'scan', T0 + 30 * MIN, T0 + 30 * MIN],
      ],
    );
    assert.deepEqual(d.failures, {
      failed: 2,
      deferred: 1,
      recent: [
        { messageId: 'F2', at: T0 + 41 * MIN, recipient: 'b@example.com', detail: '550 5.2.2 full', mailFrom: 'printer@example.com', subject: 'payroll' },
        { messageId: 'F1', at: T0 + 41 * MIN, recipient: 'a@example.com', detail: '550 5.1.1 no such user', mailFrom: 'printer@example.com', subject: 'invoice' },
      ],
    });
    const top = await dashboardFrom(store, w, { sources: 1, failures: 1 });
    assert.deepEqual([top.sources.length, top.failures.recent.length], [1, 1]);
  });

  test(`${a.name}: an empty window`, { skip: a.skip }, async (t) => {
    const store = await a.open(t);
    const d = await dashboardFrom(store, w);
    assert.deepEqual([d.traffic.refusals, d.sources, d.failures], [[], [], { failed: 0, deferred: 0, recent: [] }]);
    assert.equal(Object.values(d.traffic.totals).reduce((x, y) => x + y, 0), 0);
  });
}

test('ops dashboard on a fleet node reads the fleet trace (every node), not its own SQLite file', { skip: (await postgresAdapter()).skip }, async (t) => {
  const f = await apiFixture();
  t.after(() => f.close());
  const { store, pool } = await openPg(t);
  const now = Date.now();
  await store.write({ node: 'n1', messages: [traceRow({ id: 'P1', clientIp: '192.0.2.50', receivedAt: now - 2 * MIN })], events: [] });
  await store.write({ node: 'n2', messages: [traceRow({ id: 'P2', clientIp: '192.0.2.51', receivedAt: now - 2 * MIN })], events: [] });
  const local = await dashboard(f.deps.ops('test'), '1h', now);
  assert.equal(local.traffic.totals['direct-send'], 0, "this node's file is empty");
  assert.equal(local.fleet, null, 'a single node has no fleet section');
  const nodes = new PgNodeStore(pool);
  const version = (await f.deps.ops('test').store.current())?.version ?? 0;
  await nodes.heartbeat({ name: 'n1', softwareVersion: '0.1.0', configVersion: version, queueDepth: 3, startedAt: now - MIN });
  await nodes.heartbeat({ name: 'n2', softwareVersion: '0.1.0', configVersion: version - 1, queueDepth: 0, startedAt: now - MIN });
  const fleet = await dashboard({ ...f.deps.ops('test'), trace: store, nodes, node: 'n1' }, '1h', now);
  assert.deepEqual(
    fleet.fleet?.nodes.map((n) => [n.name, n.state, n.configLag, n.queueDepth]),
    [['n1', 'up', 0, 3], ['n2', 'up', 1, 0]],
    'every node with its state, configuration lag and queue depth',
  );
  assert.equal(fleet.fleet?.node, 'n1');
  assert.equal(fleet.traffic.totals['direct-send'], 2);
  assert.deepEqual(fleet.directSend.sources.map((x) => x.clientIp), ['192.0.2.50', '192.0.2.51']);
  assert.equal(fleet.directSend.newSources, 2);
});
