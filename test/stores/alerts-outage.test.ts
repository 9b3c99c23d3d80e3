/**
 * @module test/stores/alerts-outage.test
 * A fleet node whose fleet store (PostgreSQL) does not answer still raises and sends its own
 * queue alerts: they are kept in the node's SQLite file meanwhile and posted to a real webhook
 * receiver on 127.0.0.1, once per renotify period; fleet-wide findings wait for the store.
 * Touches: a temp directory; a loopback HTTP listener; connects to a closed loopback port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertEngine } from '../../src/alerts/index.ts';
import { validateConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/core/log.ts';
import { openDatabase } from '../../src/core/sqlite.ts';
import { PgAlertStore } from '../../src/stores/postgres/alert-store.ts';
import { openPool } from '../../src/stores/postgres/pool.ts';
import { SqliteAlertStore } from '../../src/stores/sqlite/alert-store.ts';
import { sqliteTraceStore } from '../../src/stores/sqlite/trace-store.ts';
import { freePort } from '../helpers/gateway.ts';
import { webhookReceiver } from '../helpers/webhook-receiver.ts';

test("fleet node, PostgreSQL away: its queue alert is recorded in its own file and sent once", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-alerts-outage-'));
  const db = openDatabase(join(dir, 'mailgate.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { url, posts } = await webhookReceiver(t);
  const closed = await freePort();
  const pool = openPool({ url: `postgres://postgres@127.0.0.1:${closed}/test`, schema: 'mailgate', connectTimeoutMs: 1000 });
  t.after(() => pool.end().catch(() => undefined));
  const local = new SqliteAlertStore(db);
  const config = validateConfig({ alerts: { queueAgeSeconds: 60, webhooks: [{ url, secret: 'webhook-secret-of-this-test-0123' }] } });
  const now = Date.UTC(2026, 11, 8, 1, 0, 0);
  const engine = new AlertEngine({
    trace: sqliteTraceStore(db),
    alerts: new PgAlertStore(pool),
    localAlerts: local,
    node: 'n1',
    config: () => config,
    now: () => now,
    logger: silentLogger,
    hostname: () => 'n1.example.com',
    queue: () => ({ byState: { deferred: 1 }, oldestOpenAt: now - 3_600_000 }),
    fleet: () => Promise.reject(new Error('the fleet store does not answer')),
  });
  const sent = await engine.evaluate();
  assert.deepEqual(sent.map((a) => [a.kind, a.key]), [['queue-age', 'n1:queue']]);
  assert.equal(posts.length, 1, 'posted to the webhook');
  assert.equal(posts[0]?.key, 'n1:queue');
  assert.deepEqual((await local.list({ state: 'open' })).map((a) => a.key), ['n1:queue'], "kept in the node's own file");
  assert.deepEqual(await engine.evaluate(), [], 'not sent again within the renotify period');
  assert.equal(posts.length, 1);
});
