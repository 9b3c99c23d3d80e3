/**
 * @module test/stores/trace-hunt.test
 * Hunts on the fleet's PostgreSQL trace: a read-only SELECT runs with its row limit; writes,
 * several statements, reads outside the trace (configuration, files) and over-long queries are
 * refused, and the trace is unchanged after every attempt.
 * Touches: a PostgreSQL schema (and the cluster-wide NOLOGIN role mailgate_hunt, kept).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HuntRefused } from '../../src/trace/hunt.ts';
import { runHuntPg } from '../../src/stores/postgres/trace-hunt.ts';
import { openPg } from '../helpers/trace-adapters.ts';
import { pgSkip } from '../helpers/postgres.ts';
import type { TraceMessage } from '../../src/trace/index.ts';

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
