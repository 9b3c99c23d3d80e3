/**
 * End to end (issue 19, items 2, 3, 10, 11): the receive-side defences against a real `mailgate
 * serve` on loopback. Anonymous mail with a duplicate, multi-address or group From is refused at end
 * of DATA and the same message with one legitimate From is delivered; an OnPremises connector
 * matched by IP relays only for accepted MAIL FROM domains (5.7.64 ATTR36 otherwise), one matched by
 * a verified certificate relays any sender; a NUL byte in DATA is refused; AUTH is neither
 * advertised nor accepted on an mx listener by default; the data dir is 0700 and every file in it
 * (database, WAL/SHM, spool, TLS material, pickup files) 0600 after a start and a delivery.
 * Touches: loopback sockets (127.0.0.x), a temp data dir, the gateway child process it starts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SmtpTestClient, message, type Reply } from '../helpers/smtp-client.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { createTestCa, issueCert, writePem } from '../helpers/pki.ts';
import { applyConfig, baseConfig, freePort, mxListenerOf, nextHopRoute, removeDir, startGateway, tempDir, type Gateway } from '../helpers/gateway.ts';
import { REPLIES, type ReplyKey } from '../../src/smtp/replies.ts';

const TRACE_ID = /\[[0-9A-Z]+@[^\]\s]+\]$/;
const ca = createTestCa();
const relayCert = issueCert(ca, { cn: 'relay.example.com', client: true });

let dir: string;
let sink: Sink;
let gw: Gateway;
let port = 0;

async function waitFor<T>(fn: () => T | undefined | false, ms = 15_000): Promise<T> {
  for (const until = Date.now() + ms; ; ) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A refusal with the table's exact reply and the trace id. */
function refusedWith(r: Reply | undefined, key: ReplyKey, vars: Record<string, string> = {}, msg = ''): void {
  const t = REPLIES[key];
  const want = `${t.code} ${t.enhanced} ${t.text.replace(/\{([a-z]+)\}/g, (_m, k: string) => vars[k] ?? '')}`;
  assert.ok(r, `${msg}: no reply`);
  assert.ok(r.text.startsWith(want + ' ['), `${msg}: got ${JSON.stringify(r.text)}, want ${JSON.stringify(want)} [id@host]`);
  assert.match(r.text, TRACE_ID, `${msg}: reply carries the trace id`);
}

async function session(ip: string): Promise<SmtpTestClient> {
  const c = await SmtpTestClient.connect({ port, localAddress: ip });
  assert.equal((await c.cmd('EHLO client.test')).code, 250);
  return c;
}

function delivered(subject: string): number {
  return sink.messages.filter((m) => m.raw.includes(`Subject: ${subject}\r\n`)).length;
}

before(async () => {
  dir = tempDir();
  sink = await startSink();
  port = await freePort();
  const caFile = writePem(dir, 'ca.pem', ca.cert);
  const base = baseConfig({ mx: port, submission: port });
  applyConfig(dir, {
    ...base,
    acceptedDomains: [{ domainName: 'example.com' }, { domainName: 'pickup.example' }],
    receiveConnectors: [{ ...mxListenerOf(base), port, tls: { mode: 'starttls', requestClientCert: true, clientCaFile: caFile } }],
    inboundConnectors: [
      { name: 'OnPrem by IP', connectorType: 'OnPremises', senderIPAddresses: ['127.0.0.30/32'] },
      { name: 'OnPrem by cert', connectorType: 'OnPremises', tlsSenderCertificateName: 'relay.example.com' },
    ],
    routes: [{ name: 'local', domains: ['pickup.example'], type: 'pickup', pickupDir: 'pickup' }, nextHopRoute(sink.port)],
  });
  // as an installation made before these modes: a 0755 data dir and a 0644 database
  chmodSync(dir, 0o755);
  chmodSync(join(dir, 'mailgate.db'), 0o644);
  gw = await startGateway(dir, [port]);
});

after(async () => {
  await gw?.stop();
  await sink?.close();
  removeDir(dir);
});

test('anonymous mail with a duplicate, multi-address or group From is refused (5.7.1); one legitimate From is delivered', async () => {
  const forms: Array<[string, string[], ReplyKey]> = [
    ['spoof second', ['From: news@outside.test', 'From: "CEO" <ceo@example.com>'], 'from-header-duplicate'],
    ['spoof first', ['From: ceo@example.com', 'From: news@outside.test'], 'from-header-duplicate'],
    ['two addresses', ['From: x@outside.test, ceo@example.com'], 'from-header-multiple'],
    ['group', ['From: team: ceo@example.com;'], 'from-header-group'],
    ['folded group', ['From: team:\r\n ceo@example.com;'], 'from-header-group'],
  ];
  for (const [label, fromLines, key] of forms) {
    const c = await session('127.0.0.2');
    const raw = `${fromLines.join('\r\n')}\r\nTo: user@example.com\r\nSubject: from ${label}\r\n\r\nhello\r\n`;
    const r = await c.sendMail('news@outside.test', ['user@example.com'], raw);
    refusedWith(r.eod, key, {}, label);
    await c.quit();
  }
  const c = await session('127.0.0.2');
  const ok = await c.sendMail('news@outside.test', ['user@example.com'], message({ from: '"News" <news@outside.test>', to: 'user@example.com', subject: 'from single' }));
  assert.equal(ok.eod?.code, 250, ok.eod?.text);
  await c.quit();
  await waitFor(() => delivered('from single') > 0);
  for (const [label] of forms) assert.equal(delivered(`from ${label}`), 0, `${label} reached the next hop`);
});

test('OnPremises connector by IP: an outside MAIL FROM may not relay (5.7.64 ATTR36), an accepted one may; by certificate any sender may', async () => {
  const ip = await session('127.0.0.30');
  assert.equal((await ip.cmd('MAIL FROM:<anyone@paypal.test>')).code, 250);
  refusedWith(await ip.cmd('RCPT TO:<victim@bank.test>'), 'relay-sender-not-accepted', {}, 'outside sender by IP');
  assert.equal((await ip.cmd('RSET')).code, 250);
  const own = await ip.sendMail('app@example.com', ['someone@outside.test'], message({ from: 'app@example.com', to: 'someone@outside.test', subject: 'relay own domain' }));
  assert.equal(own.eod?.code, 250, own.rcpts[0]?.text ?? own.eod?.text);
  await ip.quit();

  const cert = await SmtpTestClient.connect({ port, localAddress: '127.0.0.31' });
  await cert.cmd('EHLO client.test');
  assert.equal((await cert.starttls({ cert: relayCert.cert, key: relayCert.key })).code, 220);
  await cert.cmd('EHLO client.test');
  const any = await cert.sendMail('anyone@paypal.test', ['victim@bank.test'], message({ from: 'anyone@paypal.test', to: 'victim@bank.test', subject: 'relay by cert' }));
  assert.equal(any.eod?.code, 250, any.rcpts[0]?.text ?? any.eod?.text);
  await cert.quit();
  await waitFor(() => delivered('relay own domain') > 0 && delivered('relay by cert') > 0);
  assert.match(sink.messages.find((m) => m.raw.includes('relay by cert'))?.raw ?? '', /matched-by=certificate/);
  assert.ok(!sink.messages.some((m) => m.to.includes('victim@bank.test') && m.from === 'anyone@paypal.test' && !m.raw.includes('relay by cert')));
});

test('a NUL byte in DATA is refused with 550 5.5.2 and the session goes on', async () => {
  const c = await session('127.0.0.2');
  assert.equal((await c.cmd('MAIL FROM:<news@outside.test>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<user@example.com>')).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  c.write('From: news@outside.test\r\nSubject: nul inside\r\n\r\nbefore\x00after\r\n.\r\n');
  refusedWith(await c.reply(), 'nul-byte', {}, 'NUL');
  const again = await c.sendMail('news@outside.test', ['user@example.com'], message({ from: 'news@outside.test', to: 'user@example.com', subject: 'after nul' }));
  assert.equal(again.eod?.code, 250, again.eod?.text);
  await c.quit();
  await waitFor(() => delivered('after nul') > 0);
  assert.equal(delivered('nul inside'), 0);
});

test('AUTH is neither advertised nor accepted on an mx listener by default, even after STARTTLS', async () => {
  const c = await session('127.0.0.2');
  assert.equal((await c.starttls()).code, 220);
  const ehlo = await c.cmd('EHLO client.test');
  assert.equal(ehlo.code, 250);
  assert.doesNotMatch(ehlo.text, /AUTH/);
  const auth = await c.cmd('AUTH PLAIN ' + Buffer.from('\0alice@example.com\0guess').toString('base64'));
  assert.equal(auth.code, 500, auth.text);
  assert.match(auth.text, /^500 Error: command not recognized/);
  await c.quit();
});

/** Every entry below `d` with its mode (directories and files; symlinks not followed). */
function modes(d: string, out: Array<[string, number, boolean]> = []): Array<[string, number, boolean]> {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    out.push([p, statSync(p).mode & 0o777, e.isDirectory()]);
    if (e.isDirectory()) modes(p, out);
  }
  return out;
}

test('data at rest: the data dir is 0700 and every file in it 0600 (database, WAL/SHM, spool, TLS, pickup)', async () => {
  const c = await session('127.0.0.2');
  const r = await c.sendMail('news@outside.test', ['user@pickup.example'], message({ from: 'news@outside.test', to: 'user@pickup.example', subject: 'to pickup' }));
  assert.equal(r.eod?.code, 250, r.eod?.text);
  await c.quit();
  const pickup = join(dir, 'pickup');
  await waitFor(() => {
    try {
      return readdirSync(pickup).some((f) => f.endsWith('.eml'));
    } catch {
      return false;
    }
  });
  assert.equal(statSync(dir).mode & 0o777, 0o700, 'data dir');
  const all = modes(dir).filter(([p]) => !p.endsWith('ca.pem')); // the test's own CA file
  const names = all.map(([p]) => p.slice(dir.length + 1));
  for (const f of ['mailgate.db', 'mailgate.db-wal', 'mailgate.db-shm', 'tls/selfsigned.key', 'tls/selfsigned.crt']) assert.ok(names.includes(f), `${f} exists`);
  assert.ok(names.some((n) => n.startsWith('pickup/') && n.endsWith('.eml')), 'a pickup file');
  for (const [p, mode, isDir] of all) {
    if (isDir) assert.equal(mode & 0o077, 0, `${p} is ${mode.toString(8)}: no group/other access`);
    else assert.equal(mode, 0o600, `${p} is ${mode.toString(8)}`);
  }
});
