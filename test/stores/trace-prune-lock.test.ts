/**
 * @module test/stores/trace-prune-lock.test
 * Retention in PostgreSQL next to a long reader (a replay's cursor holds a share lock on every
 * partition it reads): dropping an old day waits at most a moment for its table, so neither the
 * prune nor the writers queued behind its DROP stall for the reader's whole run; the old rows go
 * anyway (deleted instead of dropped), and the day's table is dropped by a later run.
 * Touches: a PostgreSQL schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { traceRow } from '../../src/trace/reports/test-rows.ts';
import { openPg } from '../helpers/trace-adapters.ts';
import { pgSkip } from '../helpers/postgres.ts';

const DAY = 86_400_000;

test('postgres: retention beside an open reader finishes promptly; old rows go; the table is dropped later', { skip: await pgSkip(), timeout: 60_000 }, async (t) => {
  const { store, pool } = await openPg(t);
  const now = Date.now();
  const old = now - 10 * DAY;
  await store.write({ messages: [traceRow({ id: 'OLD', receivedAt: old }), traceRow({ id: 'NEW', receivedAt: now })], events: [] });
  const day = `trace_message_p${new Date(old).toISOString().slice(0, 10).replaceAll('-', '')}`;
  const tables = async (): Promise<string[]> => (await pool.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'trace_message_%'")).rows.map((r) => r.t);
  assert.ok((await tables()).includes(day), `the old day's partition ${day} exists`);

  const reader = await pool.connect();
  try {
    await reader.query('BEGIN READ ONLY');
    await reader.query('SELECT count(*) FROM trace_message WHERE received_at < $1', [now - DAY]);
    const started = Date.now();
    const pruned = await store.prune(now - 5 * DAY);
    assert.ok(Date.now() - started < 15_000, `prune returned in ${Date.now() - started} ms beside the reader`);
    assert.equal(pruned.messages, 1, 'the old row went (deleted, as its day could not be dropped yet)');
    assert.equal(await store.show('OLD'), undefined);
    assert.ok(await store.show('NEW'));
    assert.ok((await tables()).includes(day), 'the table the reader holds is still there');
  } finally {
    await reader.query('ROLLBACK').catch(() => undefined);
    reader.release();
  }
  await store.prune(now - 5 * DAY);
  assert.ok(!(await tables()).includes(day), 'the next run drops it');
});
