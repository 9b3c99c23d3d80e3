/**
 * @module test/stores/trace-replay-drop.test
 * Policy replay on a fleet reads the shared trace through a cursor that keeps one connection
 * checked out while the consumer replays: that connection dropping (PostgreSQL restarted, a
 * backend terminated) fails the replay with an error and never crashes the process (an 'error'
 * event nobody hears would be an uncaught exception in the gateway).
 * Touches: a PostgreSQL schema; terminates only the backend this test's own pool opened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate } from '../../src/stores/postgres/migrate.ts';
import { openPool } from '../../src/stores/postgres/pool.ts';
import { pgTraceStore } from '../../src/stores/postgres/trace-store.ts';
import { traceRow } from '../../src/trace/reports/test-rows.ts';
import { PG_URL, pgSchema, pgSkip } from '../helpers/postgres.ts';

test('postgres: a replay whose cursor connection drops fails cleanly; the process lives on', { skip: await pgSkip() }, async (t) => {
  const { schema } = await pgSchema(t);
  const app = `mg_replay_drop_${process.pid}`;
  const pool = openPool({ url: PG_URL, schema, applicationName: app });
  t.after(() => pool.end().catch(() => undefined));
  await migrate(pool, schema);
  const store = pgTraceStore({ pool, schema, node: 'n1' });
  const now = Date.now();
  await store.write({ messages: [traceRow({ id: 'R1', receivedAt: now - 1000, clientIp: '192.0.2.1' }), traceRow({ id: 'R2', receivedAt: now - 900, clientIp: '192.0.2.2' })], events: [] });
  let uncaught: unknown;
  const hear = (e: unknown): void => {
    uncaught = e;
  };
  process.on('uncaughtException', hear);
  t.after(() => process.off('uncaughtException', hear));
  const it = store.replayFacts({ since: now - 10_000, until: now + 1000 }, { samples: 1 })[Symbol.asyncIterator]();
  assert.equal((await it.next()).done, false, 'a first group');
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    const killed = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'", [app]);
    assert.equal(killed.rowCount, 1, "the cursor's backend");
  } finally {
    await admin.end();
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(uncaught, undefined, 'no uncaught exception');
  await assert.rejects(async () => {
    while (!(await it.next()).done) {
      /* the rest of the groups, if any, then the failed FETCH or COMMIT */
    }
  });
  // The pool gave up the dead client and serves the next replay.
  let groups = 0;
  for await (const _g of store.replayFacts({ since: now - 10_000, until: now + 1000 }, { samples: 1 })) groups++;
  assert.equal(groups, 2);
});
