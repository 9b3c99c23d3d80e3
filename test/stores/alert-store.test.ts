/**
 * @module test/stores/alert-store.test
 * The AlertStore conformance suite, run on both adapters (a real SQLite file; a fresh, migrated
 * PostgreSQL schema when the server is up): one open alert per kind and key, acknowledgements
 * covering earlier evidence (or a quiet period for states), the notification claim granted once
 * per renotify period and given back on failure, listing, counts and the last run. Then what only
 * a shared store must survive: many raises and claims of the same alert at once.
 * Touches: temp directories; a PostgreSQL schema per test.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/core/sqlite.ts';
import type { AlertStore, Candidate } from '../../src/alerts/index.ts';
import { SqliteAlertStore } from '../../src/stores/sqlite/alert-store.ts';
import { PgAlertStore } from '../../src/stores/postgres/alert-store.ts';
import { migrate } from '../../src/stores/postgres/migrate.ts';
import { openPool } from '../../src/stores/postgres/pool.ts';
import { PG_URL, pgSchema, pgSkip } from '../helpers/postgres.ts';

interface Adapter {
  name: string;
  skip: string | false;
  open(t: TestContext): Promise<AlertStore>;
  /** `n` stores over one backing: SQLite one file's handle; PostgreSQL one schema, a pool each (as nodes have). */
  openShared(t: TestContext, n: number): Promise<AlertStore[]>;
}

const adapters: Adapter[] = [
  {
    name: 'sqlite',
    skip: false,
    open: async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'mailgate-astore-'));
      const db = openDatabase(join(dir, 'mailgate.db'));
      t.after(() => {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      });
      return new SqliteAlertStore(db);
    },
    openShared: async (t, n) => {
      const dir = mkdtempSync(join(tmpdir(), 'mailgate-astore-'));
      const db = openDatabase(join(dir, 'mailgate.db'));
      t.after(() => {
        db.close();
        rmSync(dir, { recursive: true, force: true });
      });
      return Array.from({ length: n }, () => new SqliteAlertStore(db));
    },
  },
  {
    name: 'postgres',
    skip: await pgSkip(),
    open: async (t) => {
      const { pool, schema } = await pgSchema(t);
      await migrate(pool, schema);
      return new PgAlertStore(pool);
    },
    openShared: async (t, n) => {
      const { schema } = await pgSchema(t);
      return Promise.all(
        Array.from({ length: n }, async (_, i) => {
          const pool = openPool({ url: PG_URL, schema });
          t.after(() => pool.end());
          if (i === 0) await migrate(pool, schema);
          return new PgAlertStore(pool);
        }),
      );
    },
  },
];

const source = (seenAt?: number): Candidate => ({ kind: 'new-source', key: 'ip:198.51.100.7', summary: 'new source <198.51.100.7>', detail: { ip: '198.51.100.7', n: 2, note: 'quote " and <tag>' }, seenAt });

for (const a of adapters) {
  test(`${a.name}: one open alert per kind and key; an acknowledgement covers what was seen before it`, { skip: a.skip }, async (t) => {
    const s = await a.open(t);
    const first = await s.raise(source(100), 1000);
    const again = await s.raise(source(100), 2000);
    assert.ok(first);
    assert.equal(again?.id, first.id);
    assert.equal(again?.count, 2);
    assert.equal(again?.firstAt, 1000);
    assert.equal(again?.lastAt, 2000);
    assert.deepEqual((await s.get(first.id))?.detail, source().detail, 'detail round-trips');
    assert.deepEqual(await s.openByKind(), { 'new-source': 1 });
    assert.equal(await s.ack(first.id, 'alice', 3000), true);
    assert.equal(await s.ack(first.id, 'bob', 3000), false, 'already acknowledged');
    assert.deepEqual(await s.openByKind(), {});
    assert.equal(await s.raise(source(100), 4000), undefined, 'the same evidence again');
    const later = await s.raise(source(3500), 5000);
    assert.ok(later && later.id !== first.id, 'new evidence after the ack is a new alert');
    assert.equal(later.count, 1);
    const got = await s.get(first.id);
    assert.deepEqual([got?.state, got?.ackedBy, got?.ackedAt], ['acked', 'alice', 3000]);
    assert.equal(await s.get(999_999), undefined);
    // A state (no seenAt): quiet for quietMs after an acknowledgement.
    const q: Candidate = { kind: 'queue-age', key: 'n1:queue', summary: 'old', detail: { node: 'n1' } };
    const qa = await s.raise(q, 6000);
    assert.ok(qa);
    await s.ack(qa.id, 'bob', 6000);
    assert.equal(await s.raise(q, 7000, 10_000), undefined);
    const qb = await s.raise(q, 17_000, 10_000);
    assert.ok(qb && qb.id !== qa.id);
    // Covered, yet still open (raised after the ack): that one grows.
    assert.equal((await s.raise({ ...source(100) }, 18_000))?.id, later.id);
  });

  test(`${a.name}: the notification claim is a lease, granted once per renotify period, confirmed or given back`, { skip: a.skip }, async (t) => {
    const s = await a.open(t);
    const r = await s.raise(source(100), 1000);
    assert.ok(r);
    const lease = 5_000;
    const claim = await s.claimNotify(r.id, 1000, 60_000, lease);
    assert.deepEqual(claim, { id: r.id, at: 1000 - 60_000 + lease, previous: undefined });
    assert.equal(await s.claimNotify(r.id, 1001, 60_000, lease), undefined, 'held by the first claimant');
    await s.releaseNotify(claim);
    assert.equal((await s.get(r.id))?.notifiedAt, undefined, 'the failed sending is undone');
    // A claimant that dies before confirming: due again once the lease runs out, not a period later.
    const dead = await s.claimNotify(r.id, 2000, 60_000, lease);
    assert.ok(dead);
    assert.equal(await s.claimNotify(r.id, 2000 + lease - 1, 60_000, lease), undefined, 'still leased');
    const c2 = await s.claimNotify(r.id, 2000 + lease, 60_000, lease);
    assert.ok(c2, 'the abandoned claim ran out');
    await s.confirmNotify(dead, 9_999_999);
    assert.equal((await s.get(r.id))?.notifiedAt, c2.at, 'a claim taken over since confirms nothing');
    await s.confirmNotify(c2, 7000);
    assert.equal((await s.get(r.id))?.notifiedAt, 7000, 'sent at 7000');
    assert.equal(await s.claimNotify(r.id, 66_999, 60_000, lease), undefined, 'within the renotify period');
    const c3 = await s.claimNotify(r.id, 67_000, 60_000, lease);
    assert.deepEqual(c3, { id: r.id, at: 67_000 - 60_000 + lease, previous: 7000 }, 'renotified after the period');
    // A stale release (another sending has claimed since) changes nothing.
    await s.releaseNotify(c2);
    assert.equal((await s.get(r.id))?.notifiedAt, c3.at);
    await s.ack(r.id, 'alice', 70_000);
    assert.equal(await s.claimNotify(r.id, 999_999, 60_000, lease), undefined, 'an acknowledged alert is not sent');
  });

  test(`${a.name}: listed newest first, by state, limited; the last run kept`, { skip: a.skip }, async (t) => {
    const s = await a.open(t);
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push((await s.raise({ kind: 'connector-drift', key: `domain:d${i}.test`, summary: `d${i}`, detail: {} }, 1000 + i))?.id ?? 0);
    await s.ack(ids[1] ?? 0, 'alice', 2000);
    assert.deepEqual((await s.list()).map((x) => x.id), [...ids].reverse());
    assert.deepEqual((await s.list({ state: 'acked' })).map((x) => x.id), [ids[1]]);
    assert.deepEqual((await s.list({ state: 'open', limit: 2 })).map((x) => x.id), [ids[3], ids[2]]);
    assert.deepEqual(await s.openByKind(), { 'connector-drift': 3 });
    assert.equal(await s.lastRun(), undefined);
    await s.setLastRun(5000);
    await s.setLastRun(6000);
    assert.equal(await s.lastRun(), 6000);
  });

  test(`${a.name}: many raises and claims of one alert at once: one alert, one claim granted`, { skip: a.skip }, async (t) => {
    const stores = await a.openShared(t, 4);
    const each = <T>(fn: (s: AlertStore) => Promise<T>): Promise<T[]> => Promise.all([...stores, ...stores].map(fn));
    const rows = await each((s) => s.raise({ kind: 'node-silent', key: 'n3', summary: 'node n3 silent', detail: { node: 'n3' } }, 1000));
    assert.equal(new Set(rows.map((r) => r?.id)).size, 1);
    assert.deepEqual((await stores[1]?.list())?.map((r) => r.count), [8]);
    const id = rows[0]?.id ?? 0;
    const claims = await each((s) => s.claimNotify(id, 1000, 60_000, 5_000));
    assert.equal(claims.filter(Boolean).length, 1);
    // Acknowledged through one, closed for all.
    assert.equal(await stores[2]?.ack(id, 'bob', 2000), true);
    assert.deepEqual((await stores[3]?.get(id))?.ackedBy, 'bob');
  });
}
