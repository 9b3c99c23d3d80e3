/**
 * @module stores/config-store.test
 * The configuration store's conformance suite, run on both adapters: SQLite (always) and the
 * machine's PostgreSQL (each test in its own schema; skipped with a message when absent, failing
 * under CI). save/current/history/get, nothing saved on error, update, ensureInitial and updates
 * racing from several connections (no lost change), and the watch: a new version seen within a
 * second (PostgreSQL: by NOTIFY, with the poll set far longer), a broken one skipped.
 * SQLite also races ensureInitial from four processes.
 * Touches: temporary SQLite files; mg_t_* schemas of the `test` database; child processes.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../core/sqlite.ts';
import { FakeClock, type Clock } from '../core/clock.ts';
import { ConfigError, defaultConfig, loadExampleConfig, watchConfig, type ConfigSnapshot, type ConfigStore } from '../config/index.ts';
import { SqliteConfigStore } from './sqlite/config-store.ts';
import { PgConfigStore } from './postgres/config-store.ts';
import { migrate } from './postgres/migrate.ts';
import { openPool } from './postgres/pool.ts';
import { pgSchema, pgSkip } from '../../test/helpers/postgres.ts';

interface Adapter {
  name: string;
  skip: string | false;
  /** A fresh empty store; `connection()` opens another handle on the same store (another process's view). */
  open(t: TestContext, clock?: Clock): Promise<{ store: ConfigStore; connection(): ConfigStore; writeRaw(version: number, yaml: string): Promise<void> }>;
  /** Poll interval the watch test uses: SQLite polls; PostgreSQL must be pushed (the poll is far beyond the bound). */
  pollMs: number;
}

const sqlite: Adapter = {
  name: 'sqlite',
  skip: false,
  pollMs: 250,
  async open(t, clock) {
    const dir = mkdtempSync(join(tmpdir(), 'mailgate-store-'));
    const file = join(dir, 'mailgate.db');
    const handles = [openDatabase(file)];
    t.after(() => {
      for (const h of handles) h.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const store = new SqliteConfigStore(handles[0]!, clock);
    return {
      store,
      connection: () => {
        const h = openDatabase(file);
        handles.push(h);
        return new SqliteConfigStore(h);
      },
      writeRaw: async (_v, yaml) => void handles[0]!.prepare('INSERT INTO config_version (created_at, actor, comment, yaml) VALUES (?, ?, ?, ?)').run(Date.now(), 'mallory', '', yaml),
    };
  },
};

const postgres: Adapter = {
  name: 'postgres',
  skip: await pgSkip(),
  pollMs: 60_000,
  async open(t, clock) {
    const s = await pgSchema(t);
    await migrate(s.pool, s.schema);
    const pools = [s.pool];
    t.after(() => Promise.all(pools.slice(1).map((p) => p.end())));
    return {
      store: new PgConfigStore({ pool: s.pool, url: s.url, schema: s.schema, ...(clock ? { clock } : {}) }),
      connection: () => {
        const pool = openPool({ url: s.url, schema: s.schema });
        pools.push(pool);
        return new PgConfigStore({ pool, url: s.url, schema: s.schema });
      },
      writeRaw: async (v, yaml) => {
        await s.pool.query("INSERT INTO config_version (version, created_at, actor, comment, yaml) VALUES ($1, $2, 'mallory', '', $3)", [v, Date.now(), yaml]);
        await s.pool.query("SELECT pg_notify('mailgate_config', $1)", [`${s.schema}:${v}`]);
      },
    };
  },
};

function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (pred()) resolve();
      else if (Date.now() > until) reject(new Error(`${what}: not within ${ms} ms`));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

for (const a of [sqlite, postgres]) {
  const skip = a.skip;

  test(`${a.name}: save, current, get and history`, { skip }, async (t) => {
    const clock = new FakeClock(1_000);
    const { store } = await a.open(t, clock);
    assert.equal(await store.current(), undefined);
    assert.equal(await store.currentVersion(), 0);
    assert.equal(await store.save(loadExampleConfig(), 'alice', 'first'), 1);
    clock.advance(500);
    const c = loadExampleConfig();
    c.organization.rejectDirectSend = true;
    assert.equal(await store.save(c, 'bob', 'turn on RejectDirectSend'), 2);
    assert.equal(await store.currentVersion(), 2);
    const cur = await store.current();
    assert.equal(cur?.version, 2);
    assert.equal(cur?.actor, 'bob');
    assert.equal(cur?.createdAt, 1_500);
    assert.equal(cur?.config.organization.rejectDirectSend, true);
    assert.equal((await store.get(1))?.config.organization.rejectDirectSend, false);
    assert.equal(await store.get(9), undefined);
    assert.deepEqual(await store.history(10), [
      { version: 2, createdAt: 1_500, actor: 'bob', comment: 'turn on RejectDirectSend' },
      { version: 1, createdAt: 1_000, actor: 'alice', comment: 'first' },
    ]);
    assert.equal((await store.history(1)).length, 1);
  });

  test(`${a.name}: nothing is saved when validation or compilation fails`, { skip }, async (t) => {
    const { store } = await a.open(t);
    await store.save(defaultConfig(), 'a', '');
    const bad = defaultConfig();
    bad.lists.block.ips = ['300.1.1.1'];
    await assert.rejects(store.save(bad, 'a', ''), (e: unknown) => e instanceof ConfigError && e.path === 'lists.block.ips[0]');
    await assert.rejects(store.update('a', '', (d) => d.routes.push({ name: 'x', domains: ['*'], type: 'smtp', port: 25, tls: 'none', pickupDir: 'p' })), /routes\[0\]\.host/);
    await assert.rejects(store.update('a', '', () => { throw new Error('mutator failed'); }), /mutator failed/);
    assert.equal(await store.currentVersion(), 1);
  });

  test(`${a.name}: update mutates a copy, versions it, and skips no-op changes`, { skip }, async (t) => {
    const { store } = await a.open(t);
    await store.ensureInitial(loadExampleConfig(), 'seed');
    const before = (await store.current())?.config;
    const v = await store.update('carol', 'add contoso', (d) => {
      d.acceptedDomains.push({ domainName: 'contoso.com', domainType: 'InternalRelay', matchSubDomains: true });
    });
    assert.equal(v, 2);
    assert.equal(before?.acceptedDomains.length, 1, 'the earlier config object is untouched');
    assert.deepEqual((await store.current())?.config.acceptedDomains.map((d) => d.domainName), ['example.com', 'contoso.com']);
    assert.equal((await store.history(1))[0]?.actor, 'carol');
    assert.equal(await store.update('carol', 'nothing', () => {}), 2);
    assert.equal(await store.currentVersion(), 2);
  });

  test(`${a.name}: ensureInitial seeds once, also when several connections race`, { skip }, async (t) => {
    const { store, connection } = await a.open(t);
    const others = [connection(), connection(), connection()];
    const got = await Promise.all([store, ...others].map((s, i) => s.ensureInitial(i === 0 ? loadExampleConfig() : defaultConfig(), `racer-${i}`)));
    assert.deepEqual(got, [1, 1, 1, 1]);
    assert.equal(await store.ensureInitial(defaultConfig(), 'late'), 1);
    assert.equal((await store.history()).length, 1);
  });

  test(`${a.name}: concurrent updates from several connections: none is lost, versions have no gap`, { skip }, async (t) => {
    const { store, connection } = await a.open(t);
    await store.ensureInitial(loadExampleConfig(), 'seed');
    const writers = [store, connection(), connection(), connection()];
    const N = 5;
    await Promise.all(
      writers.map(async (w, i) => {
        for (let k = 0; k < N; k++) {
          await w.update(`writer-${i}`, `add d${i}-${k}`, (d) => void d.acceptedDomains.push({ domainName: `d${i}-${k}.example`, domainType: 'Authoritative', matchSubDomains: false }));
        }
      }),
    );
    const domains = (await store.current())?.config.acceptedDomains.map((d) => d.domainName) ?? [];
    assert.equal(domains.length, 1 + writers.length * N, 'every change is there');
    const versions = (await store.history(100)).map((h) => h.version);
    assert.deepEqual(versions, Array.from({ length: 1 + writers.length * N }, (_, i) => writers.length * N + 1 - i));
  });

  test(`${a.name}: the watch sees another connection's version within a second and skips a broken one`, { skip }, async (t) => {
    const { store, connection, writeRaw } = await a.open(t);
    await store.ensureInitial(loadExampleConfig(), 'seed');
    const seen: ConfigSnapshot[] = [];
    const errors: number[] = [];
    const w = watchConfig(store, (s) => seen.push(s), a.pollMs, { onError: (v) => errors.push(v) });
    t.after(() => w.stop());
    await w.ready;
    assert.equal(seen[0]?.version, 1, 'the version in force at start');
    assert.ok(Object.isFrozen(seen[0]?.config.organization));
    const other = connection();
    await other.update('bob', 'on', (d) => void (d.organization.rejectDirectSend = true));
    await waitFor(() => seen.length === 2, 1000, 'version 2 in force');
    assert.equal(seen[1]?.version, 2);
    assert.equal(seen[1]?.policy.organization.rejectDirectSend, true);
    // A version that does not compile (written behind the store's back) is reported and skipped.
    await writeRaw(3, 'lists:\n  block:\n    ips: [not-an-ip]\n');
    await waitFor(() => errors.length === 1, 1000, 'version 3 refused');
    assert.deepEqual(errors, [3]);
    assert.equal(seen.length, 2, 'the broken version never reached onChange');
    const fixed = loadExampleConfig();
    fixed.lists.block.ips = ['192.0.2.1'];
    await other.save(fixed, 'bob', 'fix');
    await waitFor(() => seen.length === 3, 1000, 'version 4 in force');
    assert.equal(seen[2]?.version, 4);
  });
}

const RACER = `
import { openDatabase } from ${JSON.stringify(fileURLToPath(new URL('../core/sqlite.ts', import.meta.url)))};
import { loadExampleConfig } from ${JSON.stringify(fileURLToPath(new URL('../config/index.ts', import.meta.url)))};
import { SqliteConfigStore } from ${JSON.stringify(fileURLToPath(new URL('./sqlite/config-store.ts', import.meta.url)))};
const store = new SqliteConfigStore(openDatabase(process.argv[2]));
const start = Number(process.argv[3]);
while (Date.now() < start) {}
await store.ensureInitial(loadExampleConfig(), 'racer-' + process.pid);
`;

function runNode(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

test('sqlite: ensureInitial is safe when several processes race', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-racer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'mailgate.db');
  const script = join(dir, 'racer.mts');
  writeFileSync(script, RACER);
  const start = String(Date.now() + 2500);
  const codes = await Promise.all([1, 2, 3, 4].map(() => runNode([script, file, start])));
  assert.deepEqual(codes, [0, 0, 0, 0]);
  const db = openDatabase(file);
  t.after(() => db.close());
  const store = new SqliteConfigStore(db);
  assert.equal((await store.history()).length, 1);
  assert.equal(await store.currentVersion(), 1);
});
