/**
 * @module bench/trace-fleet
 * The fleet trace's write rates and sizes, same load for every peer in one run (docs/scale.md):
 * 1. one node on SQLite: messages committed as the queue owner commits them (row + RECEIVE, one
 *    transaction each; then a DELIVER event), without and with the outbox triggers (the outbox's
 *    cost on the commit path);
 * 2. the shipper: the same outbox drained into PostgreSQL in batches (rows/s into the shared
 *    trace), one node, then two nodes shipping at once;
 * 3. PostgreSQL sizes after the load: heap and indexes per row of trace_message and trace_event.
 * Prints the load average (the machine is shared: numbers are comparable within a run only).
 * Usage: node --import tsx bench/trace-fleet.ts [messages=20000] [postgres URL]
 * Touches: temp directories; a mg_bench_* schema in the given database (dropped at the end).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Db } from '../src/core/sqlite.ts';
import { migrate } from '../src/stores/postgres/migrate.ts';
import { openPool } from '../src/stores/postgres/pool.ts';
import { pgTraceStore } from '../src/stores/postgres/trace-store.ts';
import { enableTraceOutbox, sqliteOutbox } from '../src/stores/sqlite/trace-outbox.ts';
import { ensureTraceSchema, insertEventsSync, insertMessageSync, TraceShipper, type TraceMessage } from '../src/trace/index.ts';

const N = Number(process.argv[2] ?? 20_000);
const URL_ = process.argv[3] ?? 'postgres://postgres@127.0.0.1:5432/test';
const dirs: string[] = [];

function node(outbox: boolean): Db {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-bench-fleet-'));
  dirs.push(dir);
  const db = openDatabase(join(dir, 'mailgate.db'));
  ensureTraceSchema(db);
  if (outbox) enableTraceOutbox(db);
  return db;
}

function message(prefix: string, i: number, at: number): TraceMessage {
  return {
    id: `${prefix}${i.toString(36).padStart(8, '0')}`, connectionId: `C${i}`, receivedAt: at, clientIp: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    clientPort: 40000 + (i % 20000), helo: 'printer.example.com', listener: 'mx', tlsVersion: i % 3 ? 'TLSv1.3' : undefined, mailFrom: `scan${i % 500}@example.com`,
    headerFrom: `Scanner <scan${i % 500}@example.com>`, recipients: [`user${i % 2000}@example.com`], subject: `Scan ${i}`, size: 20_000 + (i % 5000),
    messageId: `<${i}@printer.example.com>`, attribution: i % 4 ? 'direct-send' : 'connector', connector: i % 4 ? undefined : 'Printers', status: 'Received',
    source: 'gateway', spf: 'pass', dkim: 'none', dmarc: 'none',
  };
}

/** Commits messages [from, to) as the queue owner does: row + RECEIVE in one transaction, then DELIVER; returns seconds. */
function load(db: Db, prefix: string, from = 0, to = N): number {
  const commit = db.transaction((m: TraceMessage) => {
    insertMessageSync(db, m);
    insertEventsSync(db, [{ messageId: m.id, at: m.receivedAt, event: 'RECEIVE' }]);
  });
  const deliver = db.transaction((m: TraceMessage) => insertEventsSync(db, [{ messageId: m.id, at: m.receivedAt + 50, event: 'DELIVER', recipient: m.recipients[0] }]));
  const start = Date.now() - N;
  const t0 = performance.now();
  for (let i = from; i < to; i++) {
    const m = message(prefix, i, start + i);
    commit(m);
    deliver(m);
  }
  return (performance.now() - t0) / 1000;
}

/** The same load on two nodes in alternating rounds (a shared machine's swings hit both alike); msg/s each. */
function interleaved(a: Db, b: Db): [number, number] {
  const round = 1000;
  let ta = 0;
  let tb = 0;
  for (let i = 0; i < N; i += round) {
    ta += load(a, 'A', i, Math.min(N, i + round));
    tb += load(b, 'B', i, Math.min(N, i + round));
  }
  return [N / ta, N / tb];
}

async function ship(db: Db, pool: pg.Pool, schema: string, name: string): Promise<{ rowsPerSec: number; rows: number }> {
  const shipper = new TraceShipper({ outbox: sqliteOutbox(db), store: pgTraceStore({ pool, schema, node: name }), node: name, batchSize: 2000 });
  const t0 = performance.now();
  await shipper.drain();
  const s = (performance.now() - t0) / 1000;
  return { rowsPerSec: shipper.shipped / s, rows: shipper.shipped };
}

const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

async function main(): Promise<void> {
  console.log(`load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')} (${N} messages per node; 1 row + 2 events each)`);
  const withOutbox = node(true);
  const [plain, outboxed] = interleaved(node(false), withOutbox);
  console.log(`sqlite node, queue-style commits: ${fmt(plain)} msg/s without the outbox, ${fmt(outboxed)} msg/s with it (${((1 - outboxed / plain) * 100).toFixed(1)}% cost)`);

  const schema = `mg_bench_${process.pid}`;
  const admin = new pg.Client({ connectionString: URL_ });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const pool = openPool({ url: URL_, schema, max: 4 });
  try {
    await migrate(pool, schema);
    const one = await ship(withOutbox, pool, schema, 'n1');
    console.log(`shipper, one node into PostgreSQL: ${fmt(one.rowsPerSec)} trace rows/s (${fmt(one.rows)} rows: messages + events)`);
    const c = node(true);
    const d = node(true);
    load(c, 'C');
    load(d, 'D');
    const t0 = performance.now();
    const both = await Promise.all([ship(c, pool, schema, 'n2'), ship(d, pool, schema, 'n3')]);
    const s = (performance.now() - t0) / 1000;
    console.log(`shipper, two nodes at once: ${fmt((both[0].rows + both[1].rows) / s)} trace rows/s together`);
    const sizes = await pool.query<{ t: string; rows: string; heap: string; idx: string }>(
      `SELECT p.relname AS t, sum(c.reltuples)::bigint AS rows, sum(pg_relation_size(c.oid))::bigint AS heap, sum(pg_indexes_size(c.oid))::bigint AS idx
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        WHERE c.relkind = 'r' AND p.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1) GROUP BY 1 ORDER BY 1`,
      [schema],
    );
    await pool.query('ANALYZE');
    const counted = await pool.query<{ m: string; e: string }>('SELECT (SELECT count(*) FROM trace_message) AS m, (SELECT count(*) FROM trace_event) AS e');
    const rowsOf = { trace_message: Number(counted.rows[0]?.m), trace_event: Number(counted.rows[0]?.e) } as Record<string, number>;
    for (const r of sizes.rows) {
      const n = rowsOf[r.t] ?? Number(r.rows);
      console.log(`${r.t}: ${fmt(n)} rows, heap ${fmt(Number(r.heap) / n)} B/row, indexes ${fmt(Number(r.idx) / n)} B/row`);
    }
    console.log(`load average at end: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  } finally {
    await pool.end();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
