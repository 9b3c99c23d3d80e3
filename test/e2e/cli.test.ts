/**
 * End to end through the CLI: the quick start (the built gateway on the embedded example config
 * delivers to the pickup folder), `policy test` (the same pure function as serve), refused
 * config files (path named, nothing applied), the queue verbs against deferred mail, and the
 * trace verbs.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { SmtpTestClient, message } from '../helpers/smtp-client.ts';
import { startSink } from '../helpers/sink.ts';
import { ROOT, applyConfig, baseConfig, cli, freePort, removeDir, startGateway, tempDir } from '../helpers/gateway.ts';
import { openDatabase } from '../../src/core/sqlite.ts';
import { newQueueId } from '../../src/core/ids.ts';
import { dataPaths } from '../../src/daemon/paths.ts';
import { QueueStore } from '../../src/queue/index.ts';
import { spawn } from 'node:child_process';

let dir: string;
before(() => {
  dir = tempDir();
  assert.equal(cli(dir, ['init']).code, 0);
});
after(() => removeDir(dir));

async function until<T>(fn: () => T | undefined | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('quick start: the built gateway on the example config delivers to ./data/pickup', async (t) => {
  const free = await Promise.all([2525, 2587, 8025].map((p) => portFree(p)));
  if (free.includes(false)) {
    if (process.env.CI === 'true') assert.fail('ports 2525/2587/8025 are taken; the quick-start test must run under CI');
    t.skip('ports 2525/2587/8025 are in use on this machine');
    return;
  }
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stdout + build.stderr);
  const work = tempDir('mailgate-quickstart-');
  const proc = spawn(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), 'serve', '--workers', '1'], {
    cwd: work,
    stdio: 'ignore',
    detached: true,
    env: { ...process.env, MAILGATE_DNS_SERVERS: '127.0.0.1:1' },
  });
  try {
    let c: SmtpTestClient | undefined;
    for (const end = Date.now() + 30_000; !c && Date.now() < end; ) {
      c = await SmtpTestClient.connect({ port: 2525 }).catch(() => undefined);
      if (!c) await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(c, 'the quick-start gateway did not listen on 127.0.0.1:2525 within 30 s');
    assert.match(c.greeting.text, /^220 .* ESMTP mailgate/);
    assert.equal((await c.cmd('EHLO quickstart.test')).code, 250);
    const r = await c.sendMail('app@example.com', ['user@example.com'], message({ from: 'app@example.com', to: 'user@example.com', subject: 'hello from the quick start' }));
    assert.equal(r.eod?.code, 250, r.eod?.text);
    await c.quit();
    const pickup = join(work, 'data', 'pickup');
    const file = await until(() => (existsSync(pickup) ? readdirSync(pickup).find((f) => f.endsWith('.eml')) : undefined));
    const eml = readFileSync(join(pickup, file), 'utf8');
    assert.match(eml, /Subject: hello from the quick start/);
    assert.match(eml, /X-Mailgate-Attribution: direct-send; basis=mail-from/);
    assert.ok(existsSync(join(work, 'data', 'tls', 'selfsigned.crt')), 'a self-signed certificate was generated');
    // The admin listener of the embedded defaults (README): loopback, plain HTTP.
    const health = await fetch('http://127.0.0.1:8025/api/v1/health');
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    // The web console (README): built by npm run build, served at /, first login with the token in
    // data/console-first-login.token, and its dashboard shows the message just sent.
    const index = await fetch('http://127.0.0.1:8025/');
    assert.equal(index.status, 200);
    assert.match(await index.text(), /<script type="module" src="assets\/app-[A-Za-z0-9]+\.js"><\/script>/);
    const token = readFileSync(join(work, 'data', 'console-first-login.token'), 'utf8').trim();
    const login = await fetch('http://127.0.0.1:8025/api/v1/session', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    assert.equal(login.status, 200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    let shown = 0;
    for (const end = Date.now() + 30_000; shown < 1 && Date.now() < end; await new Promise((res) => setTimeout(res, 200))) {
      const d = (await (await fetch('http://127.0.0.1:8025/api/v1/dashboard?window=1h', { headers: { cookie } })).json()) as { traffic?: { totals: Record<string, number> } };
      shown = d.traffic?.totals['direct-send'] ?? 0;
    }
    assert.equal(shown, 1, 'the dashboard shows the message just sent (within 30 s: a bound, not a timing assertion)');
  } finally {
    if (proc.pid) process.kill(-proc.pid, 'SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    removeDir(work);
  }
});

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    import('node:net').then((net) => {
      const s = net.createServer();
      s.once('error', () => res(false));
      s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
    });
  });
}

test('policy test prints what serve would decide, from the same function', () => {
  const off = cli(dir, ['policy', 'test', '--ip', '192.0.2.7', '--from', 'printer@example.com', '--to', 'user@example.com', '--format', 'json']);
  assert.equal(off.code, 0, off.stderr);
  const rows = JSON.parse(off.stdout) as Array<{ stage: string; action: string; attribution: string }>;
  assert.equal(rows.find((r) => r.stage === 'rcpt')?.attribution, 'direct-send; basis=mail-from');
  assert.ok(rows.every((r) => r.action === 'continue'));
  assert.equal(cli(dir, ['org', 'set', '--reject-direct-send', 'true']).code, 0);
  const on = cli(dir, ['policy', 'test', '--ip', '192.0.2.7', '--from', 'printer@example.com', '--to', 'user@example.com', 'someone@outside.test']);
  assert.equal(on.code, 0, on.stderr);
  assert.match(on.stdout, /550 5\.7\.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources/);
  assert.match(on.stdout, /550 5\.7\.64 TenantAttribution; Relay Access Denied/);
  assert.match(on.stdout, /verdict: REJECTED/);
  const conn = cli(dir, ['connector', 'add', 'Printers', '--type', 'Partner', '--sender-ip', '192.0.2.0/24', '--sender-domain', 'example.com']);
  assert.equal(conn.code, 0, conn.stderr);
  const via = cli(dir, ['policy', 'test', '--ip', '192.0.2.7', '--from', 'printer@example.com', '--to', 'user@example.com']);
  assert.match(via.stdout, /connector; name="Printers"; type=Partner; matched-by=ip/);
  assert.match(via.stdout, /verdict: ACCEPTED/);
  const usage = cli(dir, ['policy', 'test', '--ip', '192.0.2.7']);
  assert.equal(usage.code, 2, 'a missing required flag is a usage error');
});

test('an invalid config file is refused with file, path and reason, and nothing changes', () => {
  const before = cli(dir, ['config', 'history', '--format', 'json']);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'organization:\n  rejectDirectSend: maybe\ninboundConnectors:\n  - name: X\n    senderIPAddresses: ["10.0.0.0/99"]\n');
  const r = cli(dir, ['config', 'apply', '-f', bad]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.yaml: organization\.rejectDirectSend: /);
  assert.match(r.stderr, /bad\.yaml: inboundConnectors\[0\]\.senderIPAddresses\[0\]: /);
  assert.equal(cli(dir, ['config', 'history', '--format', 'json']).stdout, before.stdout);
});

test('queue hold, release and delete act only on the states they are for: refused mid-attempt with what to do, changing nothing', async () => {
  const data = tempDir();
  try {
    applyConfig(data, baseConfig({ mx: 0, submission: 0 }));
    const id = newQueueId();
    const withStore = (fn: (store: QueueStore) => void): void => {
      const db = openDatabase(dataPaths(data).db);
      try {
        fn(new QueueStore(db));
      } finally {
        db.close();
      }
    };
    const refused = (verb: string, text: RegExp): void => {
      const r = cli(data, ['queue', verb, id]);
      assert.equal(r.code, 1, `${verb}: ${r.stderr}`);
      assert.match(r.stderr, text, verb);
    };
    const state = (): string => (JSON.parse(cli(data, ['queue', 'show', id, '--format', 'json']).stdout) as { state: string }).state;
    withStore((store) => {
      const meta = { id, size: 5, receivedAt: Date.now(), envelope: { mailFrom: 's@example.com', rcptTo: ['r@example.com'] }, prependHeaders: '', facts: {}, disposition: 'deliver' as const };
      store.insert(meta, 'deliver', true); // as the scheduler admits it: an attempt in flight
    });
    refused('hold', new RegExp(`${id} is being delivered right now`));
    refused('delete', new RegExp(`${id} is being delivered right now`));
    // Release would have made it incoming while its attempt runs: a second attempt beside the first.
    refused('release', new RegExp(`${id} is not on hold \\(it is active\\)`));
    assert.equal(state(), 'active', 'a refused verb changes nothing');
    withStore((store) => store.setState(id, 'deferred')); // the attempt ended
    refused('release', /is not on hold \(it is deferred\)/);
    assert.equal(cli(data, ['queue', 'hold', id]).code, 0);
    assert.equal(state(), 'hold');
    refused('hold', /is already on hold/);
    assert.equal(cli(data, ['queue', 'release', id]).code, 0);
    assert.equal(state(), 'incoming');
    assert.equal(cli(data, ['queue', 'delete', id]).code, 0);
    assert.equal(cli(data, ['queue', 'show', id]).code, 1, 'a deleted message is gone');
  } finally {
    removeDir(data);
  }
});

test('queue verbs on deferred mail, then delivery; trace search and show', async () => {
  const data = tempDir();
  const ports = { mx: await freePort(), submission: await freePort() };
  const hop = await freePort();
  applyConfig(data, {
    ...baseConfig(ports),
    routes: [{ name: 'hop', domains: ['*'], type: 'smtp', host: '127.0.0.1', port: hop, tls: 'none' }],
    queue: { retryInitialSeconds: 1, retryMaxSeconds: 1, maxAgeSeconds: 3600, activeWindow: 10 },
  });
  const gw = await startGateway(data, [ports.mx]);
  try {
    const c = await SmtpTestClient.connect({ port: ports.mx, localAddress: '127.0.0.2' });
    await c.cmd('EHLO q.test');
    const a = await c.sendMail('app@example.com', ['user@example.com'], message({ from: 'app@example.com', to: 'user@example.com', subject: 'queued one' }));
    const b = await c.sendMail('app@example.com', ['user@example.com'], message({ from: 'app@example.com', to: 'user@example.com', subject: 'queued two' }));
    await c.quit();
    const idA = /queued as (\S+)/.exec(a.eod?.text ?? '')?.[1] ?? '';
    const idB = /queued as (\S+)/.exec(b.eod?.text ?? '')?.[1] ?? '';
    assert.ok(idA && idB);
    const deferred = await until(() => {
      const l = cli(data, ['queue', 'list', '--state', 'deferred', '--format', 'json']);
      const rows = JSON.parse(l.stdout || '[]') as Array<{ id: string; lastError: string }>;
      return rows.length === 2 ? rows : undefined;
      // Each look spawns the CLI (seconds apiece when CI runs every test file at once: once it
      // took more than 15 s to see both deferred).
    }, 30_000);
    assert.ok(deferred.every((r) => r.lastError.length > 0), 'the deferral reason is kept');
    // Deferred mail is retried every second here, and an attempt in flight (state active) refuses
    // hold and delete with "being delivered right now": do what that tells the admin, try again.
    // (Once, under CI's load, the hold met the retry of idA.)
    const whenIdle = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
      until(() => {
        const r = cli(data, args);
        if (r.code === 0) return r;
        assert.match(r.stderr, /is being delivered right now/, `${args.join(' ')}: ${r.stderr}`);
        return undefined;
      }, 30_000);
    await whenIdle(['queue', 'hold', idA]);
    assert.match(cli(data, ['queue', 'show', idA]).stdout, /hold/);
    await whenIdle(['queue', 'delete', idB]);
    assert.equal(cli(data, ['queue', 'show', idB]).code, 1, 'a deleted message is gone');
    assert.equal(cli(data, ['queue', 'hold', 'NOSUCHID']).code, 1);
    const sink = await startSink(hop);
    try {
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(sink.messages.length, 0, 'held mail is not delivered');
      assert.equal(cli(data, ['queue', 'release', idA]).code, 0);
      await until(() => sink.messages.find((m) => m.raw.includes('queued one')));
      assert.ok(!sink.messages.some((m) => m.raw.includes('queued two')), 'deleted mail is not delivered');
      const show = await until(() => {
        const s = cli(data, ['trace', 'show', idA, '--format', 'json']);
        const j = s.code === 0 ? (JSON.parse(s.stdout) as { message: { status: string }; events: Array<{ event: string }> }) : undefined;
        return j?.message.status === 'Delivered' ? j : undefined;
      }, 30_000); // a CLI spawn per look, seconds apiece under CI's load
      assert.deepEqual(
        show.events.map((e) => e.event).filter((e) => e !== 'DEFER'),
        ['RECEIVE', 'DELIVER'],
      );
      const search = cli(data, ['trace', 'search', '--since', '1h', '--attribution', 'direct-send', '--client-ip', '127.0.0.0/8', '--tls', 'none', '--format', 'csv']);
      assert.equal(search.code, 0, search.stderr);
      assert.match(search.stdout, new RegExp(idA));
      assert.equal(cli(data, ['trace', 'search', '--since', 'yesterday-ish']).code, 2);
    } finally {
      await sink.close();
    }
  } finally {
    await gw.stop();
    removeDir(data);
  }
});
