/**
 * @module test/stores/trace-hunt.test
 * Hunts on the fleet's PostgreSQL trace: a read-only SELECT runs with its row limit; writes,
 * several statements, reads outside the trace (configuration, files) and over-long queries are
 * refused, and the trace is unchanged after every attempt. Every saved hunt has a PostgreSQL text
 * that gives the same rows as its SQLite text over the same trace.
 * Touches: a PostgreSQL schema (and the cluster-wide NOLOGIN role mailgate_hunt, kept).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OpsContext } from '../../src/ops/context.ts';
import { hunt, savedHunts } from '../../src/ops/reports.ts';
import { HuntRefused, SAVED_HUNTS } from '../../src/trace/hunt.ts';
import { runHuntPg } from '../../src/stores/postgres/trace-hunt.ts';
import { PG_SAVED_HUNTS } from '../../src/stores/postgres/trace-saved-hunts.ts';
import { pgTraceStore } from '../../src/stores/postgres/trace-store.ts';
import { openPg, sqliteAdapter } from '../helpers/trace-adapters.ts';
import { pgSkip } from '../helpers/postgres.ts';
import type { TraceMessage, TraceStore } from '../../src/trace/index.ts';
import { tempTrace, traceRow } from '../../src/trace/reports/test-rows.ts';

const row = (id: string, receivedAt: number): TraceMessage => ({ id, connectionId: 'C', receivedAt, clientIp: '192.0.2.1', listener: 'mx', recipients: ['a@example.com'], status: 'Received', attribution: 'direct-send' });

test('postgres hunts: read-only, trace tables only, one statement, row and time limits', { skip: await pgSkip(), timeout: 60_000 }, async (t) => {
  const { store, pool, schema } = await openPg(t);
  const url = process.env.MAILGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const now = Date.now();
  await store.write({ messages: [row('H1', now), row('H2', now + 1), row('H3', now + 2)], events: [{ messageId: 'H1', at: now, event: 'RECEIVE' }] });
  const hunt = (sql: string, o: { limit?: number; timeoutMs?: number } = {}) => runHuntPg(sql, { url, schema, ...o });

  const r = await hunt('SELECT id, received_at FROM trace_message ORDER BY id', { limit: 2 });
  assert.deepEqual(r.columns, ['id', 'received_at']);
  assert.deepEqual(r.rows, [{ id: 'H1', received_at: now }, { id: 'H2', received_at: now + 1 }]);
  assert.equal(r.truncated, true);
  const joined = await hunt('WITH e AS (SELECT message_id FROM trace_event) SELECT m.id FROM trace_message m JOIN e ON e.message_id = m.id;');
  assert.deepEqual(joined.rows, [{ id: 'H1' }]);

  for (const [sql, why] of [
    ['DELETE FROM trace_message', /only a single SELECT/],
    ['SELECT 1; DELETE FROM trace_message', /syntax error|more than one statement/],
    ['WITH d AS (DELETE FROM trace_message RETURNING id) SELECT * FROM d', /data-modifying|read-only/],
    ['SELECT * FROM config_version', /permission denied|trace_message and trace_event only/],
    ["SELECT pg_read_file('/etc/hostname')", /permission denied/],
    ["SELECT nextval('trace_event_local_seq')", /permission denied|read-only/],
    ['SELECT ' + 'x'.repeat(5000), /characters, the limit/],
  ] as const) {
    await assert.rejects(hunt(sql), (e: Error) => why.test(e.message), sql);
  }
  await assert.rejects(hunt('SELECT pg_sleep(5)', { timeoutMs: 200 }), (e: Error) => e instanceof HuntRefused && /time limit of 200 ms/.test(e.message));
  assert.equal(Number((await pool.query('SELECT count(*) AS n FROM trace_message')).rows[0].n), 3, 'nothing changed');
});

test('saved hunts: every one has a PostgreSQL text giving the same rows as SQLite over the same trace, also through ops hunt on a fleet node', { skip: await pgSkip(), timeout: 60_000 }, async (t) => {
  const url = process.env.MAILGATE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const { pool, schema } = await openPg(t);
  const pg = pgTraceStore({ pool, schema, node: 'n1', url });
  const lite = await sqliteAdapter.open(t);
  const now = Date.now();
  const old = now - 5 * 86_400_000;
  const messages = [
    traceRow({ id: 'A1', clientIp: '203.0.113.9', mailFrom: 'ceo@example.com', helo: 'b.test', auth: { spf: 'fail', dkim: 'none', dmarc: 'fail' }, receivedAt: old }),
    traceRow({ id: 'A2', clientIp: '203.0.113.9', mailFrom: 'CEO@example.com', helo: 'a.test', auth: { spf: 'softfail', dkim: 'pass', dmarc: 'fail' }, receivedAt: now - 1000 }),
    traceRow({ id: 'A3', clientIp: '203.0.113.9', mailFrom: 'zed@example.com', helo: 'Z.test', auth: { spf: 'fail', dmarc: 'FAIL' }, receivedAt: now - 1500 }),
    traceRow({ id: 'B1', clientIp: '10.0.0.5', mailFrom: 'printer@example.com', receivedAt: old }),
    traceRow({ id: 'B2', clientIp: '::ffff:172.20.1.1', mailFrom: 'printer@example.com', receivedAt: old }),
    traceRow({ id: 'B3', clientIp: '::FFFF:198.51.100.77', mailFrom: 'app@example.com', receivedAt: old + 1 }),
    traceRow({ id: 'B4', clientIp: 'fd00::1', mailFrom: 'dev@example.com', receivedAt: old + 2 }),
    traceRow({ id: 'C1', clientIp: '192.0.2.50', mailFrom: 'bob@contoso.test', attribution: 'anonymous-external', auth: { spf: 'pass', dkim: 'pass', dmarc: 'fail' }, receivedAt: now - 2000 }),
    traceRow({ id: 'C2', clientIp: '192.0.2.50', mailFrom: 'Alice@Contoso.test', attribution: 'anonymous-external', receivedAt: now - 2500 }),
    traceRow({ id: 'C3', clientIp: '192.0.2.51', mailFrom: undefined, attribution: 'direct-send', receivedAt: now - 2600 }),
    traceRow({ id: 'D1', clientIp: '198.51.100.3', attribution: 'connector', connector: 'Partner X', connectorType: 'Partner', auth: { dmarc: 'fail' }, receivedAt: now - 3000 }),
    traceRow({ id: 'E1', clientIp: '172.32.0.1', mailFrom: 'app@example.com', attribution: 'anonymous-external', status: 'Rejected', reply: '550 5.7.68 TenantInboundAttribution; x', receivedAt: old }),
    traceRow({ id: 'E2', clientIp: '172.31.0.1', mailFrom: 'app@example.com', attribution: 'anonymous-external', status: 'Rejected', reply: '550 5.7.68 tenantinboundattribution; x', receivedAt: old }),
  ];
  await pg.write({ messages, events: [] });
  await lite.write({ messages, events: [] });
  assert.deepEqual(Object.keys(PG_SAVED_HUNTS).sort(), Object.keys(SAVED_HUNTS).sort(), 'a PostgreSQL text for every saved hunt');
  for (const name of Object.keys(SAVED_HUNTS)) {
    const run = async (store: TraceStore) => store.hunt(store.savedHuntText(name) ?? '', { limit: 100 });
    const [a, b] = [await run(lite), await run(pg)];
    assert.ok(a.rows.length > 0, `${name}: the rows exercise it`);
    assert.deepEqual(b.columns, a.columns, name);
    assert.deepEqual(b.rows, a.rows, name);
  }
  assert.equal(pg.savedHuntText('nope'), undefined);
  assert.equal(pg.savedHuntText('toString'), undefined);
  // ops: on a fleet node the saved hunt runs on the fleet trace (refused before), in its SQL.
  const local = tempTrace();
  t.after(() => local.close());
  const ctx = { db: local.db, trace: pg } as unknown as OpsContext; // hunt() reads db (schema) and trace only
  const r = await hunt(ctx, { saved: 'spoof-suspects' });
  assert.deepEqual(r.rows.map((x) => [x.client_ip, x.sender, x.messages, x.dkim_pass, x.helo_names]), [['203.0.113.9', 'ceo@example.com', 2, 1, 'a.test,b.test'], ['203.0.113.9', 'zed@example.com', 1, null, 'Z.test']]);
  assert.match(savedHunts(ctx).find((h) => h.name === 'spoof-suspects')?.sql ?? '', /string_agg/);
  await assert.rejects(hunt(ctx, { saved: 'nope' }), /no saved hunt "nope"/);
});
