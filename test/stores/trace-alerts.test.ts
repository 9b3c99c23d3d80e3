/**
 * @module test/stores/trace-alerts.test
 * The trace-reading alert rules on every adapter (SQLite; PostgreSQL when present) over identical
 * rows: each rule finds over the adapter what it finds over one node's SQLite file. A single
 * node's engine reads its own trace through the SQLite TraceStore (1 min lookback margin, no lock,
 * the shared handle left open). Then a fleet: two nodes' engines over one PostgreSQL schema (its trace and its
 * alert store) with traffic from both nodes raise one new-source alert, not one per node, "new"
 * meaning new to the fleet; the lock holder keeps the role across evaluations and hands it over
 * when it stops; node-local rules still run on both (one alert per node).
 * Touches: temp directories; a PostgreSQL schema per test.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/core/sqlite.ts';
import { silentLogger } from '../../src/core/log.ts';
import { validateConfig } from '../../src/config/load.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { sqliteTraceStore } from '../../src/stores/sqlite/trace-store.ts';
import { fleetAlertLock } from '../../src/stores/postgres/alert-lock.ts';
import { openPool } from '../../src/stores/postgres/pool.ts';
import { pgTraceStore } from '../../src/stores/postgres/trace-store.ts';
import { PgAlertStore } from '../../src/stores/postgres/alert-store.ts';
import { SqliteAlertStore } from '../../src/stores/sqlite/alert-store.ts';
import { AlertEngine, TRACE_RULES, type RuleContext } from '../../src/alerts/index.ts';
import type { TraceMessage, TraceStore } from '../../src/trace/index.ts';
import { traceRow } from '../../src/trace/reports/test-rows.ts';
import { newSources } from '../../src/alerts/rules/traffic.ts';
import { openPg, postgresAdapter, traceAdapters } from '../helpers/trace-adapters.ts';
import { PG_URL } from '../helpers/postgres.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);

const CONFIG: Partial<ConfigInput> = {
  alerts: { learningDays: 7, connectorSilentDays: 3, staleAllowDays: 30 },
  inboundConnectors: [{ name: 'Printers', connectorType: 'Partner', senderIPAddresses: ['192.0.2.0/24'], senderDomains: ['example.com'] }],
  lists: { allow: { ips: ['192.0.2.50', '203.0.113.77'], senderDomains: [] }, block: { ips: [], senderDomains: [] } },
};

const configOf = (): ReturnType<typeof validateConfig> => validateConfig({ acceptedDomains: [{ domainName: 'example.com', domainType: 'Authoritative' }], ...CONFIG });

function ctxOf(since = NOW - 120_000): RuleContext {
  return { config: configOf(), now: NOW, since };
}

function tempDb(t: TestContext): Db {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-talerts-'));
  const db = openDatabase(join(dir, 'mailgate.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return db;
}

let n = 0;
const row = (over: Partial<TraceMessage> & { receivedAt: number }): TraceMessage => traceRow({ id: `R${String(++n).padStart(6, '0')}`, clientIp: '192.0.2.1', status: 'Pending', attribution: 'anonymous-external', ...over });
const ds = (ip: string, from: string | undefined, at: number): TraceMessage => row({ clientIp: ip, mailFrom: from, attribution: 'direct-send', receivedAt: at });

/** Rows every rule finds something in. */
function rows(): TraceMessage[] {
  return [
    ds('192.0.2.10', 'scanner@example.com', NOW - 10 * DAY),
    ds('192.0.2.10', 'scanner@example.com', NOW - 30_000),
    ds('192.0.2.10', 'payroll@example.com', NOW - 20_000), // known IP, new sender
    ds('198.51.100.7', 'ceo@example.com', NOW - 10_000), // new IP
    ds('198.51.100.7', 'ceo@example.com', NOW - 5_000),
    ds('198.51.100.8', undefined, NOW - 10_000), // new IP, no sender; same time: IP order
    ...['203.0.113.5', '203.0.113.6'].map((ip) => row({ clientIp: ip, mailFrom: 'billing@Fabrikam.test', status: 'Rejected', reply: '550 5.7.51 TenantInboundAttribution; Rejecting', receivedAt: NOW - 30_000 })),
    ...Array.from({ length: 14 }, (_, i) => row({ status: 'Rejected', reply: '550 5.7.68 TenantInboundAttribution; no', receivedAt: NOW - 2 * DAY - i * HOUR })),
    ...Array.from({ length: 25 }, (_, i) => row({ status: 'Rejected', reply: '550 5.7.68 TenantInboundAttribution; no', receivedAt: NOW - 60_000 - i * 1000 })),
    ...Array.from({ length: 7 }, (_, d) => row({ connector: 'Printers', attribution: 'connector', receivedAt: NOW - 3 * DAY - d * DAY - HOUR })),
    row({ clientIp: '192.0.2.50', receivedAt: NOW - DAY }), // allow entry in use
  ];
}

async function findings(ctx: RuleContext, trace: TraceStore): Promise<string[]> {
  const out: string[] = [];
  for (const rule of TRACE_RULES) out.push(...(await rule(ctx, trace)).map((c) => `${c.kind} ${c.key} ${JSON.stringify(c.detail)}`));
  return out.sort();
}

const EXPECTED = [
  'connector-drift domain:fabrikam.test',
  'connector-silent connector:Printers',
  'new-source ip:198.51.100.7',
  'new-source ip:198.51.100.8',
  'new-source sender:payroll@example.com',
  'rejection-spike code:5.7.68',
  'stale-allow allow-ip:203.0.113.77',
];

for (const a of await traceAdapters()) {
  test(`${a.name}: the trace alert rules find over the adapter what they find over one node's SQLite file`, { skip: a.skip }, async (t) => {
    const store = await a.open(t);
    const data = rows();
    await store.write({ node: 'n1', messages: data.slice(0, 20), events: [] });
    await store.write({ node: 'n2', messages: data.slice(20), events: [] });
    const db = tempDb(t);
    const node = sqliteTraceStore(db);
    await node.write({ messages: data, events: [] });
    const local = await findings(ctxOf(), node);
    assert.deepEqual(local.map((f) => f.split(' ').slice(0, 2).join(' ')), EXPECTED);
    assert.deepEqual(await findings(ctxOf(), store), local);
    const early = { ...ctxOf(), now: NOW - 4 * DAY, since: NOW - 4 * DAY - 120_000 };
    assert.deepEqual(await newSources(early, store), [], 'still learning');
  });
}

test('a single node: the engine reads its own trace through the SQLite TraceStore, 1 min back; the handle stays open', async (t) => {
  const db = tempDb(t);
  const trace = sqliteTraceStore(db);
  await trace.write({ messages: rows(), events: [] });
  const config = configOf();
  let now = NOW;
  const engine = new AlertEngine({ trace, alerts: new SqliteAlertStore(db), config: () => config, now: () => now, logger: silentLogger, hostname: () => 'gw' });
  const keys = async (): Promise<string[]> => (await engine.store.list()).map((x) => `${x.kind} ${x.key}`).sort();
  await engine.evaluate(); // the first evaluation looks back one interval and the margin; the hourly rules run too
  assert.deepEqual(await keys(), EXPECTED);
  // Rows buffered up to the margin are still found at the next evaluation; older ones are not (a fleet looks 15 min back).
  await trace.write({ messages: [ds('198.51.100.20', 'late@example.com', now - 50_000), ds('198.51.100.21', 'older@example.com', now - 5 * 60_000)], events: [] });
  now += 30_000;
  await engine.evaluate();
  const found = (await keys()).filter((k) => !EXPECTED.includes(k));
  assert.deepEqual(found, ['new-source ip:198.51.100.20']);
  await engine.stop();
  assert.equal((db.prepare('SELECT count(*) AS n FROM trace_message').get() as { n: number }).n, rows().length + 2, 'the shared handle is still open');
});

test('a fleet: two nodes raise one new-source alert, new to the fleet; the lock holder evaluates the trace rules', { skip: (await postgresAdapter()).skip }, async (t) => {
  const { store, schema } = await openPg(t, 'n1');
  const config = validateConfig({ acceptedDomains: [{ domainName: 'example.com', domainType: 'Authoritative' }], alerts: { learningDays: 7, deferredCount: 1 } });
  let now = NOW;
  const engines = ['n1', 'n2'].map((node) => {
    const pool = openPool({ url: PG_URL, schema });
    const lock = fleetAlertLock(pool, schema);
    const engine = new AlertEngine({
      trace: sqliteTraceStore(tempDb(t)),
      alerts: new PgAlertStore(pool),
      node,
      config: () => config,
      now: () => now,
      logger: silentLogger,
      hostname: () => node,
      queue: () => ({ byState: { deferred: 2 }, oldestOpenAt: undefined }),
      fleetTrace: { trace: pgTraceStore({ pool, schema, node }), leader: () => lock.held(), close: () => lock.close() },
    });
    t.after(() => pool.end());
    return engine;
  });
  const [e1, e2] = engines as [AlertEngine, AlertEngine];
  try {
    // n1 saw 192.0.2.10 ten days ago; n2 sees it now (not new: the fleet knew it), and a new IP.
    await store.write({ node: 'n1', messages: [ds('192.0.2.10', 'scanner@example.com', NOW - 10 * DAY)], events: [] });
    await store.write({ node: 'n2', messages: [ds('192.0.2.10', 'scanner@example.com', NOW - 30_000), ds('198.51.100.7', 'ceo@example.com', NOW - 20_000)], events: [] });
    await store.write({ node: 'n1', messages: [ds('198.51.100.7', 'ceo@example.com', NOW - 10_000)], events: [] });
    const newSourceKeys = async (e: AlertEngine): Promise<string[]> => (await e.store.list()).filter((x) => x.kind === 'new-source').map((x) => x.key);
    // Together, then one after the other (a per-evaluation lock would let the second raise it again).
    const [s1] = await Promise.all([e1.evaluate(), e2.evaluate()]);
    now += 30_000;
    await e2.evaluate();
    await e1.evaluate();
    assert.deepEqual(await newSourceKeys(e1), ['ip:198.51.100.7'], 'one alert in the fleet, and 192.0.2.10 is not new');
    assert.deepEqual(await newSourceKeys(e2), await newSourceKeys(e1), 'the same store');
    // Node-local rules run on both: one alert per node.
    assert.deepEqual((await e1.store.list({ state: 'open' })).filter((x) => x.kind === 'deferred-count').map((x) => x.key).sort(), ['n1:queue', 'n2:queue']);
    // The holder stops: the other node takes the role at its next evaluation.
    const holder = s1.some((a) => a.kind === 'new-source') ? e1 : e2; // only the holder raised (and sent) it
    const other = holder === e1 ? e2 : e1;
    await holder.stop();
    await store.write({ node: 'n2', messages: [ds('198.51.100.9', 'hr@example.com', now - 5_000)], events: [] });
    now += 30_000;
    await other.evaluate();
    assert.deepEqual((await newSourceKeys(other)).filter((k) => k === 'ip:198.51.100.9'), ['ip:198.51.100.9']);
  } finally {
    for (const e of engines) await e.stop();
  }
});

test('the fleet alert lock: one holder; a dropped holder connection frees it for another node', { skip: (await postgresAdapter()).skip }, async (t) => {
  const { pool, schema } = await openPg(t);
  const a = fleetAlertLock(pool, schema);
  const b = fleetAlertLock(pool, schema);
  t.after(async () => {
    await a.close();
    await b.close();
  });
  assert.equal(await a.held(), true);
  assert.equal(await a.held(), true, 'kept across evaluations');
  assert.equal(await b.held(), false);
  // End the holder's session from outside (exactly this schema's key), as a network cut would.
  const key = `mailgate.alerts.${schema}`;
  const killed = await pool.query(
    `SELECT pg_terminate_backend(pid) AS ok FROM pg_locks
      WHERE locktype = 'advisory' AND granted AND objsubid = 1
        AND classid::bigint = ((hashtext($1)::bigint >> 32) & 4294967295) AND objid::bigint = (hashtext($1)::bigint & 4294967295)`,
    [key],
  );
  assert.equal(killed.rowCount, 1);
  for (let i = 0; i < 50 && !(await b.held()); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await b.held(), true, 'another node takes the role');
  assert.equal(await a.held(), false, 'the old holder notices it lost it');
  await b.close();
  assert.equal(await a.held(), true, 'released on close');
});
