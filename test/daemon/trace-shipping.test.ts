/**
 * @module test/daemon/trace-shipping.test
 * A fleet node's queue-owner wiring: with a real runtime (its SQLite store and TraceWriter), trace
 * records the gateway appends reach the shared PostgreSQL trace through the outbox, and the outbox
 * backlog and trace lag are exported as metrics.
 * Touches: a temp data directory; a PostgreSQL schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/core/log.ts';
import { openRuntime } from '../../src/daemon/runtime.ts';
import { startTraceShipping } from '../../src/daemon/trace-shipping.ts';
import { migrate } from '../../src/stores/postgres/migrate.ts';
import { pgSchema, pgSkip } from '../helpers/postgres.ts';

test('fleet node: the runtime trace writer ships to PostgreSQL; outbox metrics', { skip: await pgSkip() }, async (t) => {
  const { pool, schema } = await pgSchema(t);
  await migrate(pool, schema);
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-ship-'));
  const rt = await openRuntime(dir, createLogger('test', 'silent'));
  const shipping = startTraceShipping(rt, { pool, schema, node: 'mx-a' });
  t.after(async () => {
    await shipping.stop();
    await rt.close();
    rmSync(dir, { recursive: true, force: true });
  });
  rt.metrics.setOwner({
    queueByState: () => ({}),
    oldestOpenAgeSeconds: () => 0,
    traceBacklog: () => 0,
    configVersion: () => 1,
    traceOutbox: () => ({ rows: shipping.shipper.backlog().rows, lagSeconds: shipping.shipper.lagSeconds() }),
  });
  const now = Date.now();
  rt.trace.message({ id: 'F1', connectionId: 'C', receivedAt: now, clientIp: '192.0.2.9', listener: 'mx', recipients: ['u@example.com'], status: 'Received', attribution: 'direct-send', mailFrom: 'scan@example.com' });
  rt.trace.event({ messageId: 'F1', at: now + 1, event: 'DELIVER', recipient: 'u@example.com' });
  const deadline = Date.now() + 15_000;
  let shown = await shipping.store.show('F1');
  while ((shown?.events.length ?? 0) < 1 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    shown = await shipping.store.show('F1');
  }
  assert.equal(shown?.message.status, 'Delivered');
  assert.equal(shown?.events.length, 1);
  const node = await pool.query("SELECT node FROM trace_message WHERE id = 'F1'");
  assert.equal(node.rows[0].node, 'mx-a');
  while (shipping.shipper.backlog().rows > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const text = await rt.metrics.registry.metrics();
  assert.match(text, /^mailgate_trace_outbox_backlog 0$/m);
  assert.match(text, /^mailgate_trace_lag_seconds 0$/m);
});
