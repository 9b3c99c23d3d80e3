/**
 * @module test/stores/trace-store.test
 * The TraceStore contract on every adapter (SQLite; PostgreSQL when present): a full row round
 * trips, events oldest first, status derived from outcome events (late rows too), upserts keep
 * recorded auth results, a retried batch of sequenced events never duplicates, retention removes
 * old rows with their events (whole days as dropped partitions on PostgreSQL). PostgreSQL only:
 * partitions per day are created ahead and dropped by retention, and a late row for a dropped day
 * makes its partition again (on the pruning node and on another whose cache still lists it).
 * Touches: a temp directory; a PostgreSQL schema per test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TraceMessage } from '../../src/trace/index.ts';
import { openPg, postgresAdapter, traceAdapters } from '../helpers/trace-adapters.ts';
import { pgTraceStore } from '../../src/stores/postgres/trace-store.ts';

const DAY = 86_400_000;
const full: TraceMessage = {
  id: 'Q1', connectionId: 'C1', receivedAt: 1_700_000_000_000, clientIp: '192.0.2.10', clientPort: 50123, helo: 'printer.example.com',
  listener: 'mx', tlsVersion: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', certSubject: 'CN=printer', authUser: 'scanner',
  mailFrom: 'scan@example.com', headerFrom: 'Scanner <scan@example.com>', recipients: ['a@example.com', 'b@example.com'], subject: 'Scan ✓',
  size: 1234, messageId: '<m1@example.com>', attribution: 'connector', connector: 'Printers', connectorType: 'OnPremises', connectorMatchedBy: 'ip',
  status: 'Received', reply: '250 2.0.0 Ok', reasons: ['connector-ip', 'tls'], source: 'gateway', certCn: 'printer', certSans: ['printer.example.com'],
  certVerified: true, spf: 'pass', spoofSuspect: false, dnsLookups: 3,
};

for (const a of await traceAdapters()) {
  test(`${a.name}: rows round trip; events oldest first; status follows outcomes; late rows`, { skip: a.skip }, async (t) => {
    const store = await a.open(t);
    await store.write({ messages: [full], events: [{ messageId: 'Q1', at: full.receivedAt + 20, event: 'RULE', detail: 'rule X' }, { messageId: 'Q1', at: full.receivedAt + 10, event: 'RECEIVE' }] });
    const shown = await store.show('Q1');
    // The fleet's trace names the node that wrote the row.
    assert.deepEqual(shown?.message, a.name === 'postgres' ? { ...full, node: 'n1' } : full);
    assert.deepEqual(shown?.events, [
      { messageId: 'Q1', at: full.receivedAt + 10, event: 'RECEIVE' },
      { messageId: 'Q1', at: full.receivedAt + 20, event: 'RULE', detail: 'rule X' },
    ]);
    assert.equal(await store.show('nope'), undefined);
    const status = async (): Promise<string | undefined> => (await store.show('Q1'))?.message.status;
    await store.write({ messages: [], events: [{ messageId: 'Q1', at: full.receivedAt + 30, event: 'DELIVER', recipient: 'a@example.com' }] });
    assert.equal(await status(), 'Pending');
    await store.write({ messages: [], events: [{ messageId: 'Q1', at: full.receivedAt + 40, event: 'FAIL', recipient: 'B@example.com' }] });
    assert.equal(await status(), 'Failed');
    // A rewrite without auth results keeps them, and cannot hide the outcome.
    await store.write({ messages: [{ ...full, subject: 'changed', spf: undefined }], events: [] });
    assert.equal((await store.show('Q1'))?.message.subject, 'changed');
    assert.equal((await store.show('Q1'))?.message.spf, 'pass');
    assert.equal(await status(), 'Failed');
    assert.equal((await store.search({})).length, 1);
    // Events before their row: the row takes the derived status.
    await store.write({ messages: [], events: [{ messageId: 'Q2', at: full.receivedAt + 5, event: 'DEFER' }] });
    await store.write({ messages: [{ ...full, id: 'Q2' }], events: [] });
    assert.equal((await store.show('Q2'))?.message.status, 'Pending');
  });

  test(`${a.name}: a NUL in a subject or a next hop's reply is written, not refused (PostgreSQL text takes no NUL)`, { skip: a.skip }, async (t) => {
    const store = await a.open(t);
    await store.write({ messages: [{ ...full, id: 'N1', subject: 'a\u0000b' }], events: [{ messageId: 'N1', at: full.receivedAt + 1, event: 'DEFER', detail: '451 busy\u0000 try later' }] });
    const shown = await store.show('N1');
    const nul = a.name === 'postgres' ? '\uFFFD' : '\u0000';
    assert.equal(shown?.message.subject, `a${nul}b`);
    assert.equal(shown?.events[0]?.detail, `451 busy${nul} try later`);
  });

  test(`${a.name}: a retried batch of sequenced events never duplicates`, { skip: a.skip }, async (t) => {
    const store = await a.open(t);
    const batch = {
      node: 'mx1',
      messages: [{ ...full, id: 'S1' }],
      events: [
        { messageId: 'S1', at: full.receivedAt, event: 'RECEIVE' as const, seq: 1 },
        { messageId: 'S1', at: full.receivedAt + 1, event: 'DELIVER' as const, seq: 2 },
      ],
    };
    await store.write(batch);
    if (a.name === 'postgres') {
      await store.write(batch); // idempotence is a fleet property: SQLite's rows never ship twice
      assert.equal((await store.show('S1'))?.events.length, 2);
    }
    assert.equal((await store.show('S1'))?.message.status, 'Delivered');
  });

  test(`${a.name}: retention removes old rows with their events and old orphan events, keeps new rows`, { skip: a.skip }, async (t) => {
    const store = await a.open(t);
    const now = Date.now();
    const messages: TraceMessage[] = [];
    const events = [];
    for (let i = 0; i < 12; i++) {
      // Days 100..89 back: 10 days older than the 90-day cutoff (one of them straddling), 2 inside.
      const receivedAt = now - (100 - i) * DAY + 3_600_000;
      messages.push({ ...full, id: `R${i}`, receivedAt });
      events.push({ messageId: `R${i}`, at: receivedAt, event: 'RECEIVE' as const }, { messageId: `R${i}`, at: receivedAt + 1, event: 'DELIVER' as const, recipient: 'a@example.com' });
    }
    events.push({ messageId: 'gone', at: now - 95 * DAY, event: 'DEFER' as const }, { messageId: 'gone-new', at: now - DAY, event: 'DEFER' as const });
    await store.write({ messages, events });
    const cutoff = now - 90 * DAY;
    const expectGone = messages.filter((m) => m.receivedAt < cutoff).length;
    assert.deepEqual(await store.prune(cutoff), { messages: expectGone, events: expectGone * 2 + 1 });
    assert.equal((await store.search({})).length, 12 - expectGone);
    assert.equal((await store.show('R11'))?.events.length, 2);
    assert.equal((await store.show('gone-new')), undefined);
    assert.deepEqual(await store.prune(cutoff), { messages: 0, events: 0 });
    await assert.rejects(store.prune(Number.NaN), /invalid prune cutoff/);
  });
}

const pgA = await postgresAdapter();
test('postgres: partitions per UTC day, created ahead, dropped by retention', { skip: pgA.skip }, async (t) => {
  const { store, pool } = await openPg(t);
  const now = Date.now();
  await store.write({ messages: [{ ...full, id: 'P1', receivedAt: now - 100 * DAY }, { ...full, id: 'P2', receivedAt: now }], events: [] });
  const names = async (): Promise<string[]> =>
    (
      await pool.query<{ relname: string }>(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'trace_message' AND p.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
      )
    ).rows.map((r) => r.relname);
  const day = (ms: number): string => `trace_message_p${new Date(ms).toISOString().slice(0, 10).replace(/-/g, '')}`;
  const before = await names();
  for (const d of [now - 100 * DAY, now, now + DAY, now + 2 * DAY]) assert.ok(before.includes(day(d)), `${day(d)} in ${before.join(',')}`);
  assert.deepEqual(await store.prune(now - 90 * DAY), { messages: 1, events: 0 });
  const after = await names();
  assert.ok(!after.includes(day(now - 100 * DAY)), 'the old day is dropped, not emptied');
  assert.ok(after.includes(day(now)));
});

test('postgres: Direct Send rows stream in keyset pages, every row once (ties on time included)', { skip: pgA.skip }, async (t) => {
  const store = await pgA.open(t);
  const now = Date.now() - 3_600_000;
  const rows: TraceMessage[] = [];
  for (let i = 0; i < 11_000; i++) rows.push({ ...full, id: `P${String(i).padStart(6, '0')}`, receivedAt: now + Math.floor(i / 3), attribution: 'direct-send' });
  await store.write({ messages: rows, events: [] });
  const seen = new Set<string>();
  let n = 0;
  for await (const r of store.directSendRows({ since: now - 1, until: now + 10_000 })) {
    n++;
    seen.add((r as unknown as { id: string }).id);
  }
  assert.equal(n, 11_000);
  assert.equal(seen.size, 11_000);
});

test('postgres: a late row for a day retention dropped is written (the partition is made again), on the pruning node and on another', { skip: pgA.skip }, async (t) => {
  const { store, pool, schema } = await openPg(t);
  const other = pgTraceStore({ pool, schema, node: 'n2' });
  const now = Date.now();
  const old = now - 100 * DAY;
  await store.write({ messages: [{ ...full, id: 'L1', receivedAt: old }], events: [] });
  await other.write({ messages: [{ ...full, id: 'L2', receivedAt: old + 1 }], events: [] });
  assert.deepEqual(await store.prune(now - 90 * DAY), { messages: 2, events: 0 });
  // Both caches still held the dropped day; a late row (an outbox catching up) must not fail.
  await store.write({ messages: [{ ...full, id: 'L3', receivedAt: old + 2 }], events: [{ messageId: 'L3', at: old + 3, event: 'RECEIVE' }] });
  await other.write({ messages: [{ ...full, id: 'L4', receivedAt: old + 4 }], events: [{ messageId: 'L4', at: old + 5, event: 'DEFER' }] });
  assert.equal((await store.show('L3'))?.events.length, 1);
  assert.equal((await store.show('L4'))?.events.length, 1);
});
