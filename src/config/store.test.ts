/**
 * @module config/store.test
 * Versioned store: save/current/history/get, nothing saved on error, update, ensureInitial across
 * racing processes, and the watch (new version seen within a second, broken one skipped).
 * Touches: temporary SQLite files; spawns node child processes for the race test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../core/sqlite.ts';
import { FakeClock } from '../core/clock.ts';
import { ConfigError, ConfigStore, defaultConfig, loadExampleConfig, watchConfig, type ConfigSnapshot } from './index.ts';

function tmpDb(): string {
  return join(mkdtempSync(join(tmpdir(), 'mailgate-store-')), 'mailgate.db');
}

test('save, current, get and history', () => {
  const clock = new FakeClock(1_000);
  const store = new ConfigStore(openDatabase(':memory:'), clock);
  assert.equal(store.current(), undefined);
  assert.equal(store.currentVersion(), 0);
  assert.equal(store.save(loadExampleConfig(), 'alice', 'first'), 1);
  clock.advance(500);
  const c = loadExampleConfig();
  c.organization.rejectDirectSend = true;
  assert.equal(store.save(c, 'bob', 'turn on RejectDirectSend'), 2);
  assert.equal(store.currentVersion(), 2);
  const cur = store.current();
  assert.equal(cur?.version, 2);
  assert.equal(cur?.actor, 'bob');
  assert.equal(cur?.createdAt, 1_500);
  assert.equal(cur?.config.organization.rejectDirectSend, true);
  assert.equal(store.get(1)?.config.organization.rejectDirectSend, false);
  assert.equal(store.get(9), undefined);
  assert.deepEqual(store.history(10), [
    { version: 2, createdAt: 1_500, actor: 'bob', comment: 'turn on RejectDirectSend' },
    { version: 1, createdAt: 1_000, actor: 'alice', comment: 'first' },
  ]);
  assert.equal(store.history(1).length, 1);
});

test('nothing is saved when validation or compilation fails', () => {
  const store = new ConfigStore(openDatabase(':memory:'));
  store.save(defaultConfig(), 'a', '');
  const bad = defaultConfig();
  bad.lists.block.ips = ['300.1.1.1'];
  assert.throws(() => store.save(bad, 'a', ''), (e: unknown) => e instanceof ConfigError && e.path === 'lists.block.ips[0]');
  assert.throws(() => store.update('a', '', (d) => d.routes.push({ name: 'x', domains: ['*'], type: 'smtp', port: 25, tls: 'none', pickupDir: 'p' })), /routes\[0\]\.host/);
  assert.throws(() => store.update('a', '', () => { throw new Error('mutator failed'); }), /mutator failed/);
  assert.equal(store.currentVersion(), 1);
});

test('update mutates a copy, versions it, and skips no-op changes', () => {
  const store = new ConfigStore(openDatabase(':memory:'));
  store.ensureInitial(loadExampleConfig(), 'seed');
  const before = store.current()?.config;
  const v = store.update('carol', 'add contoso', (d) => {
    d.acceptedDomains.push({ domainName: 'contoso.com', domainType: 'InternalRelay', matchSubDomains: true });
  });
  assert.equal(v, 2);
  assert.equal(before?.acceptedDomains.length, 1, 'the earlier config object is untouched');
  assert.deepEqual(store.current()?.config.acceptedDomains.map((d) => d.domainName), ['example.com', 'contoso.com']);
  assert.equal(store.history(1)[0]?.actor, 'carol');
  assert.equal(store.update('carol', 'nothing', () => {}), 2);
  assert.equal(store.currentVersion(), 2);
});

test('ensureInitial seeds once', () => {
  const store = new ConfigStore(openDatabase(':memory:'));
  assert.equal(store.ensureInitial(loadExampleConfig(), 'a'), 1);
  assert.equal(store.ensureInitial(defaultConfig(), 'b'), 1);
  assert.equal(store.history().length, 1);
});

const RACER = `
import { openDatabase } from ${JSON.stringify(fileURLToPath(new URL('../core/sqlite.ts', import.meta.url)))};
import { ConfigStore, loadExampleConfig } from ${JSON.stringify(fileURLToPath(new URL('./index.ts', import.meta.url)))};
const store = new ConfigStore(openDatabase(process.argv[2]));
const start = Number(process.argv[3]);
while (Date.now() < start) {}
store.ensureInitial(loadExampleConfig(), 'racer-' + process.pid);
`;

function runNode(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

test('ensureInitial is safe when several processes race', async () => {
  const file = tmpDb();
  const script = join(mkdtempSync(join(tmpdir(), 'mailgate-racer-')), 'racer.ts');
  writeFileSync(script, RACER);
  const start = String(Date.now() + 2500);
  const codes = await Promise.all([1, 2, 3, 4].map(() => runNode([script, file, start])));
  assert.deepEqual(codes, [0, 0, 0, 0]);
  const store = new ConfigStore(openDatabase(file));
  assert.equal(store.history().length, 1);
  assert.equal(store.currentVersion(), 1);
});

function waitFor(pred: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (pred()) resolve();
      else if (Date.now() > until) reject(new Error(`condition not met within ${ms} ms`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

test('watch sees a new version within a second and keeps the old one when a version is broken', async () => {
  const file = tmpDb();
  const store = new ConfigStore(openDatabase(file));
  store.ensureInitial(loadExampleConfig(), 'seed');
  const seen: ConfigSnapshot[] = [];
  const errors: number[] = [];
  const w = watchConfig(store, (s) => seen.push(s), 250, { onError: (v) => errors.push(v) });
  try {
    assert.equal(seen[0]?.version, 1, 'the version in force at start');
    assert.ok(Object.isFrozen(seen[0]?.config.organization));
    // Another process (its own connection) writes a new version.
    const other = new ConfigStore(openDatabase(file));
    other.update('bob', 'on', (d) => { d.organization.rejectDirectSend = true; });
    await waitFor(() => seen.length === 2, 1000);
    assert.equal(seen[1]?.version, 2);
    assert.equal(seen[1]?.policy.organization.rejectDirectSend, true);
    // A version that does not compile (written behind the store's back) is reported and skipped.
    other.db.prepare('INSERT INTO config_version (created_at, actor, comment, yaml) VALUES (?, ?, ?, ?)').run(Date.now(), 'mallory', '', 'lists:\n  block:\n    ips: [not-an-ip]\n');
    await waitFor(() => errors.length === 1, 1000);
    assert.deepEqual(errors, [3]);
    assert.equal(seen.length, 2, 'the broken version never reached onChange');
    const fixed = loadExampleConfig();
    fixed.lists.block.ips = ['192.0.2.1'];
    other.save(fixed, 'bob', 'fix');
    await waitFor(() => seen.length === 3, 1000);
    assert.equal(seen[2]?.version, 4);
  } finally {
    w.stop();
  }
});
