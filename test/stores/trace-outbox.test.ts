/**
 * @module test/stores/trace-outbox.test
 * A fleet node's trace outbox: rows the node commits locally (as the queue's commit hook writes
 * them) reach PostgreSQL through the shipper exactly once, including rows written while
 * PostgreSQL is unreachable (a loopback TCP relay to the machine's PostgreSQL that is closed,
 * then opened) and a batch sent again after its ack was lost. Shipped local rows are pruned
 * after the keep window, unshipped ones never.
 * Touches: a temp directory; a PostgreSQL schema; a loopback port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase } from '../../src/core/sqlite.ts';
import { migrate } from '../../src/stores/postgres/migrate.ts';
import { pgTraceStore } from '../../src/stores/postgres/trace-store.ts';
import { pruneShipped, shippedMark, sqliteOutbox } from '../../src/stores/sqlite/trace-outbox.ts';
import { insertEventsSync, insertMessageSync, TraceShipper, type TraceMessage } from '../../src/trace/index.ts';
import { PG_URL, pgSchema, pgSkip } from '../helpers/postgres.ts';

const row = (id: string, receivedAt: number): TraceMessage => ({
  id, connectionId: 'C', receivedAt, clientIp: '192.0.2.1', listener: 'mx', mailFrom: 'printer@example.com', recipients: ['a@example.com'],
  attribution: 'direct-send', status: 'Received', source: 'gateway',
});

/** Commit one accepted message as the queue owner does: row + RECEIVE in one transaction. */
function commitLocal(db: ReturnType<typeof openDatabase>, id: string, at: number): void {
  db.transaction(() => {
    insertMessageSync(db, row(id, at));
    insertEventsSync(db, [{ messageId: id, at, event: 'RECEIVE' }]);
  })();
}

/** A loopback TCP relay to PostgreSQL that can be closed (connection refused) and opened again. */
async function relay(): Promise<{ port: number; open(): Promise<void>; close(): Promise<void> }> {
  const target = new URL(PG_URL);
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  return {
    port,
    open: async () => {
      server = createServer((c) => {
        const up = createConnection({ host: target.hostname, port: Number(target.port || 5432) });
        for (const s of [c, up]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        c.pipe(up).pipe(c);
      });
      await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      if (server) await new Promise<void>((r) => server!.close(() => r()));
      server = undefined;
    },
  };
}

test('outbox: rows written while PostgreSQL is unreachable arrive once it is back, exactly once', { skip: await pgSkip() }, async (t) => {
  const { schema, pool: direct } = await pgSchema(t);
  await migrate(direct, schema);
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-outbox-'));
  const db = openDatabase(join(dir, 'mailgate.db'));
  const r = await relay();
  // The node's pool goes through the relay; short connect timeout so a refused batch fails fast.
  const pool = new pg.Pool({ host: '127.0.0.1', port: r.port, user: new URL(PG_URL).username || 'postgres', database: new URL(PG_URL).pathname.slice(1), max: 2, connectionTimeoutMillis: 2000 });
  pool.on('error', () => {}); // idle clients cut by the relay
  t.after(async () => {
    await pool.end().catch(() => {});
    await r.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const store = pgTraceStore({ pool, schema, node: 'mx1' });
  const outbox = sqliteOutbox(db);
  const errors: unknown[] = [];
  const shipper = new TraceShipper({ outbox, store, node: 'mx1', batchSize: 7, onError: (e) => errors.push(e) });
  const now = Date.now();

  // PostgreSQL unreachable: local commits succeed, shipping fails, nothing is lost.
  for (let i = 0; i < 25; i++) commitLocal(db, `M${i}`, now + i);
  await assert.rejects(shipper.shipOnce(), /ECONNREFUSED|connect/);
  assert.equal(outbox.backlog().rows, 50, 'one entry per row and event, none acked');
  assert.ok(shipper.lagSeconds(now + 60_000) > 0);

  // Back: the backlog drains, in batches.
  await r.open();
  await shipper.drain();
  assert.equal(outbox.backlog().rows, 0);
  assert.ok(shippedMark(db) > 0);
  const count = async (table: string): Promise<number> => Number((await direct.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  assert.equal(await count('trace_message'), 25);
  assert.equal(await count('trace_event'), 25);
  assert.equal(Number((await direct.query("SELECT count(*) AS n FROM trace_message WHERE node = 'mx1'")).rows[0].n), 25);

  // A batch whose ack was lost is sent again: still exactly once.
  commitLocal(db, 'L1', now + 100);
  insertEventsSync(db, [{ messageId: 'L1', at: now + 200, event: 'DELIVER', recipient: 'a@example.com' }]);
  const got = outbox.read(100);
  assert.ok(got);
  await store.write({ ...got.batch, node: 'mx1' }); // committed, then the node died before ack
  await shipper.drain();
  assert.equal(await count('trace_message'), 26);
  assert.equal(await count('trace_event'), 27);
  assert.equal((await store.show('L1'))?.message.status, 'Delivered');

  // The running shipper: a write while the relay is down again arrives after it reopens.
  await r.close();
  shipper.start();
  commitLocal(db, 'D1', now + 300);
  const deadline = Date.now() + 20_000;
  while (errors.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  assert.ok(errors.length > 0, 'the shipper reported the outage');
  assert.equal(outbox.backlog().rows, 2);
  await r.open();
  while (outbox.backlog().rows > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
  await shipper.stop();
  assert.equal(outbox.backlog().rows, 0, 'caught up within the bound');
  assert.equal(await count('trace_message'), 27);
  assert.equal((await store.show('D1'))?.events.length, 1);

  // Shipped local rows go after the keep window; an unshipped one stays.
  commitLocal(db, 'U1', now - 10_000);
  assert.deepEqual(pruneShipped(db, now + 1_000), { messages: 27, events: 28 });
  assert.equal((db.prepare('SELECT count(*) AS n FROM trace_message').get() as { n: number }).n, 1, 'U1 is not shipped yet');
});
