/**
 * @module test/e2e/upgrade
 * Upgrades (README "Upgrade"): a data directory made by mailgate 0.1.0, before data versions
 * existed (test/fixtures/datadir-0.1.0: three configuration versions, two deferred messages and
 * their trace), is migrated by this release's `mailgate serve` at start: the data version becomes
 * this release's, the configuration history is whole, both queued messages are delivered once
 * and their trace ends Delivered. A data directory from a newer mailgate is refused by `serve` and
 * by every other command with one line and exit 1, and is left untouched.
 * Touches: temp copies of the fixture, loopback sockets, the gateway processes it starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startSink } from '../helpers/sink.ts';
import { ROOT, applyConfig, baseConfig, cli, cliAsync, freePort, nextHopRoute, removeDir, startGateway, tempDir } from '../helpers/gateway.ts';
import { DATA_VERSION } from '../../src/core/data-version.ts';
import { getTrace } from '../../src/stores/sqlite/trace-search.ts';
import { openDatabase } from '../../src/core/sqlite.ts';
import { SqliteConfigStore } from '../../src/stores/sqlite/config-store.ts';

/** A busy shared machine can take long to start a gateway: not a timed assertion, a bound. */
const READY_MS = 120_000;

const FIXTURE = join(ROOT, 'test', 'fixtures', 'datadir-0.1.0');
const QUEUED = { '01M98KBW9ZN91YA94E': 'upgrade-1', '01M98KBWN9QN92TX1X': 'upgrade-2' };

/** A copy of the fixture; its database is kept as an SQL dump (sqlite3 .dump) and built here. */
function copyFixture(): string {
  const dir = tempDir('mailgate-upgrade-');
  cpSync(FIXTURE, dir, { recursive: true, filter: (src) => !src.endsWith('.sql') });
  const db = new Database(join(dir, 'mailgate.db'));
  try {
    db.exec(readFileSync(join(FIXTURE, 'mailgate.sql'), 'utf8'));
  } finally {
    db.close();
  }
  return dir;
}

/** The data version of a data dir, read with the bare driver (no mailgate code in between). */
function userVersion(dir: string): number {
  const db = new Database(join(dir, 'mailgate.db'), { readonly: true });
  try {
    return Number(db.pragma('user_version', { simple: true }));
  } finally {
    db.close();
  }
}

test('serve migrates a 0.1.0 data directory at start and delivers what it had queued, once', { timeout: 300_000 }, async () => {
  const dir = copyFixture();
  const sink = await startSink();
  try {
    assert.equal(userVersion(dir), 0, 'the fixture predates data versions');
    const ports = { mx: await freePort(), submission: await freePort() };
    applyConfig(dir, { ...baseConfig(ports), routes: [nextHopRoute(sink.port)] }, 'after upgrade: this machine');
    // Their next attempt was an hour away when 0.1.0 stopped.
    assert.equal(cli(dir, ['queue', 'flush']).code, 0);
    const gw = await startGateway(dir, [ports.mx, ports.submission], { workers: 1, readyMs: READY_MS });
    try {
      const until = Date.now() + 30_000;
      while (sink.messages.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 1000)); // a duplicate would arrive now
      assert.match(gw.log(), /"from":0,"to":1,"msg":"data directory migrated"/);
    } finally {
      await gw.stop();
    }
    assert.equal(userVersion(dir), DATA_VERSION);
    const subjects = sink.messages.map((m) => /^Subject: (.*)$/m.exec(m.raw)?.[1]?.trim()).sort();
    assert.deepEqual(subjects, ['upgrade-1', 'upgrade-2']);

    const history = cli(dir, ['config', 'history', '--format', 'json']);
    assert.equal(history.code, 0, history.stderr);
    const versions = (JSON.parse(history.stdout) as Array<{ version: number; comment: string }>).map((v) => [v.version, v.comment]);
    assert.deepEqual(versions.slice(-3).map((v) => v[0]), [3, 2, 1]);
    assert.equal(versions.at(-1)?.[1], 'fixture: test ports, next hop down');
    const cfg = openDatabase(join(dir, 'mailgate.db'));
    try {
      const store = new SqliteConfigStore(cfg);
      assert.equal(store.getNow(2)?.config.organization.name, 'Fixture Org');
      assert.ok(store.getNow(3)?.config.acceptedDomains.some((d) => d.domainName === 'fixture.example'));
    } finally {
      cfg.close();
    }

    const db = new Database(join(dir, 'mailgate.db'), { readonly: true });
    try {
      for (const [id, subject] of Object.entries(QUEUED)) {
        const t = getTrace(db, id);
        assert.ok(t, `trace of ${id}`);
        assert.equal(t.message.subject, subject);
        assert.equal(t.message.status, 'Delivered');
        assert.ok(t.events.some((e) => e.event === 'RECEIVE'), 'its 0.1.0 events are kept');
      }
      const rec = db.prepare('SELECT version, release FROM data_migration').all();
      assert.deepEqual(rec, [{ version: 1, release: '0.1.0' }]);
    } finally {
      db.close();
    }
  } finally {
    await sink.close();
    removeDir(dir);
  }
});

test('a data directory from a newer mailgate is refused with one line by serve and by the CLI', { timeout: 300_000 }, async () => {
  const dir = copyFixture();
  try {
    const db = new Database(join(dir, 'mailgate.db'));
    db.pragma(`user_version = ${DATA_VERSION + 1}`);
    db.close();
    const want = new RegExp(`^mailgate: .*mailgate\\.db was written by a newer mailgate \\(data version ${DATA_VERSION + 1}; this mailgate reads up to ${DATA_VERSION}\\)[^\\n]*\\n$`);
    const serve = await cliAsync(dir, ['serve', '--workers', '1']);
    assert.equal(serve.code, 1, serve.stderr);
    assert.match(serve.stderr, want);
    const show = cli(dir, ['org', 'show']);
    assert.equal(show.code, 1);
    assert.match(show.stderr, want);
    assert.equal(userVersion(dir), DATA_VERSION + 1, 'left untouched');
  } finally {
    removeDir(dir);
  }
});
