/**
 * @module test/stores/fleet-alerts.test
 * Two nodes' alert engines on one PostgreSQL schema (its trace and its alert store, each node on
 * its own pool), posting to a real webhook receiver on 127.0.0.1: a fleet-wide finding raised by
 * both at once is one alert and one webhook call; when the trace rules' lock moves, the new holder
 * finds the same alert (no second call); an acknowledgement on one node closes it on the other;
 * the nodes' own queue alerts stay one per node.
 * Touches: temp directories; a PostgreSQL schema; a loopback HTTP listener.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/core/sqlite.ts';
import { silentLogger } from '../../src/core/log.ts';
import { validateConfig } from '../../src/config/load.ts';
import type { FleetFacts } from '../../src/config/nodes.ts';
import { AlertEngine, type AlertStore } from '../../src/alerts/index.ts';
import { ackAlert, listAlerts } from '../../src/ops/alerts.ts';
import type { OpsContext } from '../../src/ops/context.ts';
import { sqliteTraceStore } from '../../src/stores/sqlite/trace-store.ts';
import { PgAlertStore } from '../../src/stores/postgres/alert-store.ts';
import { migrate } from '../../src/stores/postgres/migrate.ts';
import { openPool } from '../../src/stores/postgres/pool.ts';
import { pgTraceStore } from '../../src/stores/postgres/trace-store.ts';
import { SqliteConfigStore } from '../../src/stores/sqlite/config-store.ts';
import { traceRow } from '../../src/trace/reports/test-rows.ts';
import type { TraceMessage } from '../../src/trace/index.ts';
import { PG_URL, pgSchema, pgSkip } from '../helpers/postgres.ts';
import { webhookReceiver } from '../helpers/webhook-receiver.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const SECRET = 'webhook-secret-of-this-test-0123';

function tempDb(t: TestContext): Db {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-falerts-'));
  const db = openDatabase(join(dir, 'mailgate.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}

let seq = 0;
const ds = (ip: string, from: string, at: number): TraceMessage => traceRow({ id: `F${String(++seq).padStart(6, '0')}`, clientIp: ip, mailFrom: from, status: 'Pending', attribution: 'direct-send', receivedAt: at });

interface Node {
  name: string;
  engine: AlertEngine;
  alerts: AlertStore;
  ops: OpsContext;
  /** Whether this node holds the trace rules' lock (the test moves it). */
  lead: boolean;
}

/** Nodes n1 and n2 on one migrated schema; n3 in the heartbeats has stopped reporting. */
async function fleet(t: TestContext): Promise<{ nodes: [Node, Node]; posts: Array<Record<string, unknown>>; clock: { now: number }; write(node: string, rows: TraceMessage[]): Promise<void> }> {
  const { schema } = await pgSchema(t);
  const hook = await webhookReceiver(t);
  const config = validateConfig({
    acceptedDomains: [{ domainName: 'example.com', domainType: 'Authoritative' }],
    alerts: { learningDays: 7, deferredCount: 1, webhooks: [{ url: hook.url, secret: SECRET }] },
  });
  const clock = { now: NOW };
  const facts = (): FleetFacts => ({
    now: clock.now,
    configVersion: 1,
    configSavedAt: NOW - DAY,
    nodes: ['n1', 'n2', 'n3'].map((name) => ({ name, softwareVersion: '0', configVersion: 1, queueDepth: 0, startedAt: NOW - DAY, lastSeen: name === 'n3' ? clock.now - 120_000 : clock.now })),
  });
  const pools = ['n1', 'n2'].map(() => {
    const pool = openPool({ url: PG_URL, schema });
    t.after(() => pool.end());
    return pool;
  });
  await migrate(pools[0] ?? assert.fail(), schema);
  const nodes = ['n1', 'n2'].map((name, i): Node => {
    const pool = pools[i] ?? assert.fail();
    const db = tempDb(t);
    const alerts = new PgAlertStore(pool);
    const node: Node = { name, alerts, lead: false, ops: { db, store: new SqliteConfigStore(db), dataDir: '', actor: `admin-of-${name}`, alerts, trace: sqliteTraceStore(db) }, engine: undefined as unknown as AlertEngine }; // engine set below (it reads `node.lead`)
    node.engine = new AlertEngine({
      trace: sqliteTraceStore(db),
      alerts,
      node: name,
      config: () => config,
      now: () => clock.now,
      logger: silentLogger,
      hostname: () => name,
      queue: () => ({ byState: { deferred: 3 }, oldestOpenAt: undefined }),
      fleet: async () => facts(),
      fleetTrace: { trace: pgTraceStore({ pool, schema, node: name }), leader: async () => node.lead, close: async () => {} },
      webhook: { tries: 1 },
    });
    t.after(() => node.engine.stop());
    return node;
  }) as [Node, Node];
  const write = async (node: string, rows: TraceMessage[]): Promise<void> => pgTraceStore({ pool: pools[0] ?? assert.fail(), schema, node }).write({ node, messages: rows, events: [] });
  return { nodes, posts: hook.posts, clock, write };
}

const kindsOf = (posts: Array<Record<string, unknown>>): string[] => posts.map((p) => `${String(p.kind)} ${String(p.key)}`).sort();

test('a fleet: a finding raised by both nodes at once is one alert and one webhook call; a lock move does not raise it again', { skip: await pgSkip() }, async (t) => {
  const { nodes, posts, clock, write } = await fleet(t);
  const [n1, n2] = nodes;
  await write('n1', [ds('192.0.2.10', 'scanner@example.com', NOW - 10 * DAY), ds('198.51.100.7', 'ceo@example.com', NOW - 10_000)]);
  n1.lead = true;
  await Promise.all([n1.engine.evaluate(), n2.engine.evaluate()]);
  assert.deepEqual(kindsOf(posts), ['deferred-count n1:queue', 'deferred-count n2:queue', 'new-source ip:198.51.100.7', 'node-silent n3'], 'each alert posted once');
  const open = await n2.alerts.list({ state: 'open' });
  assert.deepEqual(open.map((a) => `${a.kind} ${a.key}`).sort(), kindsOf(posts));
  const silent = open.find((a) => a.kind === 'node-silent');
  assert.equal(silent?.count, 2, 'found by both nodes, one alert');
  assert.deepEqual(open.filter((a) => a.kind === 'deferred-count').map((a) => [a.detail.node, a.summary.startsWith(`node ${String(a.detail.node)}: `)]).sort(), [['n1', true], ['n2', true]]);
  // The lock moves to n2: it reads the same window of the fleet's trace and finds the same source.
  n1.lead = false;
  n2.lead = true;
  clock.now += 30_000;
  await Promise.all([n2.engine.evaluate(), n1.engine.evaluate()]);
  const source = (await n1.alerts.list()).filter((a) => a.kind === 'new-source');
  assert.deepEqual(source.map((a) => [a.key, a.count]), [['ip:198.51.100.7', 2]], 'the same alert, found again');
  assert.equal(posts.length, 4, 'nothing posted twice');
});

test('a fleet: an acknowledgement on one node closes the alert on the other, which does not raise it again', { skip: await pgSkip() }, async (t) => {
  const { nodes, posts, clock } = await fleet(t);
  const [n1, n2] = nodes;
  await n1.engine.evaluate();
  const silent = (await listAlerts(n1.ops)).find((a) => a.kind === 'node-silent');
  assert.ok(silent);
  const acked = await ackAlert(n2.ops, silent.id);
  assert.deepEqual([acked.state, acked.ackedBy], ['acked', 'admin-of-n2']);
  const onA = (await listAlerts(n1.ops, { state: 'all' })).find((a) => a.id === silent.id);
  assert.deepEqual([onA?.state, onA?.ackedBy], ['acked', 'admin-of-n2']);
  await assert.rejects(ackAlert(n1.ops, silent.id), /already acknowledged by admin-of-n2/);
  const before = posts.length;
  clock.now += 30_000;
  await Promise.all([n1.engine.evaluate(), n2.engine.evaluate()]);
  assert.equal((await listAlerts(n1.ops)).filter((a) => a.kind === 'node-silent').length, 0, 'quiet after the ack, on both nodes');
  assert.deepEqual(kindsOf(posts.slice(before)), ['deferred-count n2:queue'], "only n2's own queue alert is new");
});
