/**
 * End to end (issue 19 item 9): SMTP AUTH brute force against a real `mailgate serve`. Wrong
 * passwords from one IP, spread over reconnects: the 6th attempt gets 454 4.7.0 (with the trace
 * id, logged and traced), even with the right password, while the real user still logs in from
 * another IP. Failures for one user name spread over many IPs lock that name for new IPs only:
 * the IP the user logged in from before still gets in.
 * Touches: loopback sockets (127.0.0.x), a temp data dir, the gateway child process it starts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SmtpTestClient } from '../helpers/smtp-client.ts';
import { applyConfig, baseConfig, cli, freePort, removeDir, startGateway, tempDir, type Gateway } from '../helpers/gateway.ts';
import { hashPassword } from '../../src/config/index.ts';
import { REPLIES } from '../../src/smtp/replies.ts';

const USER = 'alice@example.com';
const BOB = 'bob@example.com';
const GOOD = 'correct horse';
const TRACE_ID = /\[[0-9A-Z]+@[^\]\s]+\]$/;
let gw: Gateway;
let dir: string;
let port = 0;

before(async () => {
  dir = tempDir();
  port = await freePort();
  const base = baseConfig({ mx: await freePort(), submission: port });
  applyConfig(dir, {
    ...base,
    receiveConnectors: (base.receiveConnectors ?? []).filter((l) => l.role === 'submission'),
    users: [
      { name: USER, passwordHash: await hashPassword(GOOD) },
      { name: BOB, passwordHash: await hashPassword(GOOD) },
    ],
    authThrottle: { ipFailures: 5, userFailures: 8, windowSeconds: 300, lockoutSeconds: 900 },
  });
  gw = await startGateway(dir, [port]);
});

after(async () => {
  await gw?.stop();
  removeDir(dir);
});

/** A TLS session ready for AUTH, from `ip`. */
async function tlsSession(ip: string): Promise<SmtpTestClient> {
  const c = await SmtpTestClient.connect({ port, localAddress: ip });
  assert.equal((await c.cmd('EHLO client.test')).code, 250);
  assert.equal((await c.starttls()).code, 220);
  assert.equal((await c.cmd('EHLO client.test')).code, 250);
  return c;
}

const plain = (user: string, password: string): string => 'AUTH PLAIN ' + Buffer.from(`\0${user}\0${password}`).toString('base64');

function throttled(text: string): void {
  const r = REPLIES['auth-throttled'];
  assert.ok(text.startsWith(`${r.code} ${r.enhanced} ${r.text} [`), text);
  assert.match(text, TRACE_ID);
}

test('the 6th failure from one IP gets 454 4.7.0 even after reconnecting; the real user still logs in from another IP', async () => {
  // Five wrong passwords over three connections (reconnecting does not reset the count).
  for (const n of [2, 2, 1]) {
    const c = await tlsSession('127.0.0.2');
    for (let i = 0; i < n; i++) assert.equal((await c.cmd(plain(USER, `guess-${i}`))).code, 535);
    await c.quit();
  }
  const c = await tlsSession('127.0.0.2');
  throttled((await c.cmd(plain(USER, 'guess-6'))).text);
  // Locked: the right password from that IP is refused too, without being checked.
  throttled((await c.cmd(plain(USER, GOOD))).text);
  await c.quit();
  const real = await tlsSession('127.0.0.3');
  const ok = await real.cmd(plain(USER, GOOD));
  assert.equal(ok.code, 235, ok.text);
  await real.quit();
  assert.match(gw.log(), /"ip":"127\.0\.0\.2".*"scope":"ip".*"msg":"AUTH lockout"/);
  let traced = '';
  for (const until = Date.now() + 10_000; Date.now() < until && !traced.includes('454 4.7.0'); ) {
    traced = cli(dir, ['trace', 'search', '--client-ip', '127.0.0.2', '--status', 'Rejected', '--format', 'json']).stdout;
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.match(traced, /454 4\.7\.0 Too many failed authentication attempts/);
});

test('failures for one user from many IPs lock the name for new IPs only, never from the IP the user logged in from', async () => {
  const before = await tlsSession('127.0.0.3');
  assert.equal((await before.cmd(plain(BOB, GOOD))).code, 235);
  await before.quit();
  // 8 failures for the name from two IPs, each under its own IP ceiling of 5.
  for (const ip of ['127.0.0.11', '127.0.0.12']) {
    const c = await tlsSession(ip);
    for (let i = 0; i < 4; i++) assert.equal((await c.cmd(plain(BOB, `spray-${i}`))).code, 535);
    await c.quit();
  }
  const fresh = await tlsSession('127.0.0.13');
  throttled((await fresh.cmd(plain(BOB, GOOD))).text);
  await fresh.quit();
  const known = await tlsSession('127.0.0.3');
  const ok = await known.cmd(plain(BOB, GOOD));
  assert.equal(ok.code, 235, `the user's known IP still logs in: ${ok.text}`);
  await known.quit();
});

test('with serve --workers 2 the count holds across the workers: the 6th failure over new connections gets 454 4.7.0', async () => {
  const wdir = tempDir();
  const wport = await freePort();
  const base = baseConfig({ mx: await freePort(), submission: wport });
  applyConfig(wdir, {
    ...base,
    receiveConnectors: (base.receiveConnectors ?? []).filter((l) => l.role === 'submission'),
    users: [{ name: USER, passwordHash: await hashPassword(GOOD) }],
  });
  // Round-robin: each new connection goes to the other worker.
  const wgw = await startGateway(wdir, [wport], { workers: 2, env: { NODE_CLUSTER_SCHED_POLICY: 'rr' }, readyTimeoutMs: 120_000 });
  // Both workers listening, so round-robin really alternates between them.
  for (const until = Date.now() + 120_000; (wgw.log().match(/"msg":"listening"/g) ?? []).length < 2; ) {
    if (Date.now() > until) throw new Error('the two receive workers did not both start');
    await new Promise((r) => setTimeout(r, 200));
  }
  try {
    const session = async (): Promise<SmtpTestClient> => {
      const c = await SmtpTestClient.connect({ port: wport, localAddress: '127.0.0.21' });
      await c.cmd('EHLO client.test');
      await c.starttls();
      await c.cmd('EHLO client.test');
      return c;
    };
    for (let i = 0; i < 5; i++) {
      const c = await session();
      assert.equal((await c.cmd(plain(USER, `guess-${i}`))).code, 535);
      await c.quit();
    }
    const c = await session();
    throttled((await c.cmd(plain(USER, GOOD))).text);
    await c.quit();
  } finally {
    await wgw.stop();
    removeDir(wdir);
  }
});
