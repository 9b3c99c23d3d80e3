/**
 * @module test/e2e/backup
 * `mailgate backup` under load and `mailgate restore` (README "Back up and restore"), against a
 * real `mailgate serve --workers 2` on loopback whose next hop is down (so mail stays queued):
 * a backup taken while sessions deliver a bounded load holds every message acknowledged before it
 * began; restored into a new data dir and served there with a sink on the next hop, every message
 * queued at backup time (the backup's queue rows and spool) arrives exactly once, and nothing
 * arrives twice. restore refuses a data dir a serve is running on (even with --force) and a
 * non-empty one without --force.
 * Touches: temp data dirs, loopback sockets, the gateway processes it starts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SmtpTestClient } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/sink.ts';
import { applyConfig, baseConfig, cli, cliAsync, freePort, nextHopRoute, removeDir, startGateway, tempDir } from '../helpers/gateway.ts';
import { openDatabase } from '../../src/core/sqlite.ts';
import { QueueStore } from '../../src/queue/index.ts';

/** A busy shared machine can take long to start a gateway: not a timed assertion, a bound. */
const READY_MS = 120_000;

const FROM = 'printer@example.com';
const TO = 'user@example.com';
const TOTAL = 240;
const SESSIONS = 6;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function raw(subject: string): string {
  return [`From: <${FROM}>`, `To: <${TO}>`, `Subject: ${subject}`, `Message-ID: <${subject}@backup.test>`, `Date: ${new Date().toUTCString()}`, '', `body of ${subject}`, ''].join('\r\n');
}

/** TOTAL tagged messages over SESSIONS sessions; `acked` maps subject → queue id, in 250 order. */
async function load(port: number, acked: Map<string, string>): Promise<void> {
  let next = 0;
  const session = async (): Promise<void> => {
    while (next < TOTAL) {
      const c = await SmtpTestClient.connect({ port, timeoutMs: 15_000 });
      try {
        assert.equal((await c.cmd('EHLO load.test')).code, 250);
        for (let n = 0; n < 10 && next < TOTAL; n++) {
          const subject = `bk-${next++}`;
          const r = await c.sendMail(FROM, [TO], raw(subject));
          const m = /^250 2\.0\.0 Ok: queued as ([0-9A-Za-z]+)/.exec(r.eod?.text ?? '');
          assert.ok(m, `250 for ${subject}: ${r.eod?.text}`);
          acked.set(subject, m[1] as string);
        }
      } finally {
        await c.quit();
      }
    }
  };
  await Promise.all(Array.from({ length: SESSIONS }, session));
}

const messageIdOf = (rawMsg: string): string | undefined => /^Message-ID: <([^@>]+)@backup\.test>/im.exec(rawMsg)?.[1];

test('a backup taken under load, restored elsewhere, delivers every message queued at backup time exactly once', { timeout: 400_000 }, async () => {
  const dir = tempDir('mailgate-backup-src-');
  const backup = join(tempDir('mailgate-backup-'), 'b1');
  const restored = tempDir('mailgate-backup-dst-');
  const ports = { mx: await freePort(), submission: await freePort() };
  const deadHop = await freePort();
  const queue = { retryInitialSeconds: 1, retryMaxSeconds: 2, maxAgeSeconds: 172_800, activeWindow: 100 };
  applyConfig(dir, { ...baseConfig(ports), routes: [nextHopRoute(deadHop)], queue });
  const gw = await startGateway(dir, [ports.mx, ports.submission], { workers: 2, readyMs: READY_MS });
  const sink = await startSink();
  try {
    const acked = new Map<string, string>();
    const sending = load(ports.mx, acked);
    while (acked.size < TOTAL / 3) await sleep(20);
    const before = new Set(acked.keys());
    const b = await cliAsync(dir, ['backup', backup]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout, /^backup of .* written to .*: \d+ queued message\(s\)/);
    await sending;
    assert.ok(acked.size === TOTAL && acked.size > before.size, 'the load went on after the backup');

    // restore: never into the data dir a serve runs on, never over a non-empty one without --force.
    const live = cli(dir, ['restore', backup, '--force']);
    assert.equal(live.code, 1);
    assert.match(live.stderr, /^mailgate: .* is in use by a running mailgate serve \(PID \d+\): stop it first\n$/);
    await gw.stop();

    // What the backup holds to deliver: its open queue rows and the files of its spool.
    const bdb = openDatabase(join(backup, 'mailgate.db'), { readonly: true });
    const openRows = new QueueStore(bdb).openIds();
    bdb.close();
    const files = readdirSync(join(backup, 'spool', 'msg'));
    const manifest = JSON.parse(readFileSync(join(backup, 'manifest.json'), 'utf8')) as { queued: number };
    assert.equal(manifest.queued, openRows.length);
    const idToSubject = new Map([...acked].map(([s, id]) => [id, s] as const));
    for (const s of before) assert.ok(openRows.includes(acked.get(s) as string) || files.includes(acked.get(s) as string), `${s} (acknowledged before the backup) is in it`);
    const expected = new Set([...openRows, ...files].map((id) => idToSubject.get(id)));
    assert.ok(!expected.has(undefined), 'the backup holds only acknowledged messages');

    assert.equal(cli(restored, ['init']).code, 0); // now non-empty
    const busy = cli(restored, ['restore', backup]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /is not empty: pass --force/);
    const r = cli(restored, ['restore', backup, '--force']);
    assert.equal(r.code, 0, r.stderr);

    const newPorts = { mx: await freePort(), submission: await freePort() };
    applyConfig(restored, { ...baseConfig(newPorts), routes: [nextHopRoute(sink.port)], queue }, 'restored: sink next hop');
    const gw2 = await startGateway(restored, [newPorts.mx, newPorts.submission], { workers: 2, readyMs: READY_MS });
    try {
      const until = Date.now() + 90_000;
      const db = openDatabase(join(restored, 'mailgate.db'), { readonly: true });
      const store = new QueueStore(db);
      while ((sink.messages.length < expected.size || store.openIds().length > 0) && Date.now() < until) await sleep(200);
      db.close();
      await sleep(1500); // a duplicate would arrive now
    } finally {
      await gw2.stop();
    }
    const got = sink.messages.map((m) => messageIdOf(m.raw));
    const seen = new Set<string>();
    for (const s of got) {
      assert.ok(s, 'every delivered message carries its tag');
      assert.ok(!seen.has(s), `${s} delivered once only`);
      seen.add(s);
    }
    for (const s of expected) assert.ok(seen.has(s as string), `${s} (queued at backup time) delivered`);
    assert.equal(seen.size, expected.size, 'nothing that was not in the backup');
  } finally {
    await gw.stop();
    await sink.close();
    for (const d of [dir, join(backup, '..'), restored]) removeDir(d);
  }
});
