/**
 * @module test/stores/alert-lock.test
 * The fleet's alert-evaluator lock when its holder is cut off without a reset (a partition: the
 * link goes silent, no FIN, no RST): the holder's check says "not held" within seconds instead of
 * hanging on TCP retransmits (which froze the whole alert turn and a clean shutdown), and giving
 * the lock up returns promptly. PostgreSQL's own keepalive probes (set on the lock's session) end
 * the dead session on a real partition; a loopback relay keeps answering probes, so that half is
 * not observable here.
 * Touches: a loopback relay to the machine's PostgreSQL; one advisory lock key of a temp schema name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { fleetAlertLock } from '../../src/stores/postgres/alert-lock.ts';
import { pgSkip, PG_URL } from '../helpers/postgres.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

test('postgres: a holder cut off silently stops holding within seconds; close() does not hang', { skip: await pgSkip(), timeout: 60_000 }, async (t) => {
  const target = new URL(PG_URL);
  const relay = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const viaRelay = new URL(PG_URL);
  viaRelay.port = String(relay.port);
  const pool = new pg.Pool({ connectionString: viaRelay.toString() });
  const schema = `mg_lock_${randomBytes(4).toString('hex')}`;
  const lock = fleetAlertLock(pool, schema);
  t.after(async () => {
    await relay.close();
    await pool.end().catch(() => undefined);
  });
  assert.equal(await lock.held(), true, 'takes the free lock');
  assert.equal(await lock.held(), true, 'and keeps it');
  relay.freeze();
  const started = Date.now();
  // Not held: false, or the failed reconnect through the same silent link (the engine logs it).
  const answer = await lock.held().catch((e: unknown) => e);
  assert.ok(answer === false || answer instanceof Error, `a silent link is not a held lock (got ${String(answer)})`);
  const waited = Date.now() - started;
  assert.ok(waited < 20_000, `the check gave up in ${waited} ms`);
  const closing = Date.now();
  await lock.close();
  assert.ok(Date.now() - closing < 10_000, 'close() is bounded on a silent link');
});
