/**
 * End to end: the attribution matrix against a real `mailgate serve` on loopback, with real SMTP
 * clients from different 127.0.0.x source addresses, a real next-hop sink, a test CA and client
 * certificates generated here, and the CLI changing the running config.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCa, issueCert, writePem } from '../helpers/pki.ts';
import { SmtpTestClient, message, type Reply } from '../helpers/smtp-client.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { applyConfig, baseConfig, cli, freePort, removeDir, startGateway, tempDir, type Gateway, nextHopRoute, mxListenerOf } from '../helpers/gateway.ts';
import { hashPassword } from '../../src/config/index.ts';
import { openDatabase } from '../../src/core/sqlite.ts';
import { searchTrace, getTrace } from '../../src/stores/sqlite/trace-search.ts';
import { join } from 'node:path';

const DS_TEXT = '550 5.7.68 TenantInboundAttribution; Direct Send not allowed for this organization from unauthorized sources';
let dir: string;
let gw: Gateway;
let sink: Sink;
const ports = { mx: 0, submission: 0, scoped: 0, deny: 0, smtps: 0 };
const ca = createTestCa();
const scannerCert = issueCert(ca, { cn: 'scanner.example.com', client: true });
const rogueCa = createTestCa('rogue CA');
const rogueCert = issueCert(rogueCa, { cn: 'scanner.example.com', client: true });

async function session(port: number, localAddress: string): Promise<SmtpTestClient> {
  const c = await SmtpTestClient.connect({ port, localAddress });
  const ehlo = await c.cmd('EHLO client.test');
  assert.equal(ehlo.code, 250, ehlo.text);
  return c;
}

function ok(r: Reply | undefined, msg = ''): void {
  assert.ok(r, 'missing reply ' + msg);
  assert.equal(r.code, 250, `${msg}: ${r.text}`);
}

async function waitFor<T>(fn: () => T | undefined, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function traceOf(id: string): ReturnType<typeof getTrace> {
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    return getTrace(db, id);
  } finally {
    db.close();
  }
}

function queuedId(r: Reply | undefined): string {
  const m = /queued as ([0-9A-Z]+)/.exec(r?.text ?? '');
  assert.ok(m, `no queue id in ${r?.text}`);
  return m[1] as string;
}

before(async () => {
  dir = tempDir();
  sink = await startSink();
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  const caFile = writePem(dir, 'ca.pem', ca.cert);
  const base = baseConfig(ports);
  const mx = mxListenerOf(base);
  applyConfig(dir, {
    ...base,
    receiveConnectors: [
      // allowAuth: this mx listener also takes AUTH (off by default for role mx), for the AUTH-in-transaction test
      { ...mx, allowAuth: true, tls: { mode: 'starttls', requestClientCert: true, clientCaFile: caFile } },
      ...(base.receiveConnectors ?? []).filter((l) => l.role === 'submission'),
      { name: 'scoped', port: ports.scoped, role: 'relay', remoteIPRanges: ['127.0.0.50/32'] },
      { name: 'deny', port: ports.deny, role: 'relay', defaultDeny: true },
      { name: 'smtps', port: ports.smtps, role: 'submission', tls: { mode: 'implicit', requestClientCert: false } },
    ],
    inboundConnectors: [
      { name: 'Printers', connectorType: 'Partner', senderIPAddresses: ['127.0.0.10/32'], senderDomains: ['example.com'] },
      { name: 'Scanner cert', connectorType: 'Partner', tlsSenderCertificateName: 'scanner.example.com', senderDomains: ['example.com'] },
      { name: 'Fabrikam locked', connectorType: 'Partner', senderDomains: ['fabrikam.test'], senderIPAddresses: ['127.0.0.20/32'], restrictDomainsToIPAddresses: true },
      { name: 'OnPrem', connectorType: 'OnPremises', senderIPAddresses: ['127.0.0.30/32'] },
    ],
    lists: { allow: { ips: ['127.0.0.66'], senderDomains: [] }, block: { ips: ['127.0.0.66/32'], senderDomains: ['spammer.test'] } },
    users: [{ name: 'alice@example.com', passwordHash: await hashPassword('correct horse') }],
    routes: [nextHopRoute(sink.port)],
  });
  gw = await startGateway(dir, [ports.mx, ports.submission, ports.scoped, ports.deny, ports.smtps]);
});

after(async () => {
  await gw?.stop();
  await sink?.close();
  removeDir(dir);
});

test('direct send is accepted while RejectDirectSend is off, attributed and stamped', async () => {
  const c = await session(ports.mx, '127.0.0.2');
  const r = await c.sendMail('printer@example.com', ['user@example.com'], message({ from: 'printer@example.com', to: 'user@example.com', subject: 'scan 1', extraHeaders: ['X-Mailgate-Attribution: authenticated; user="forged"'] }));
  ok(r.eod, 'direct send');
  await c.quit();
  const id = queuedId(r.eod);
  const got = await waitFor(() => sink.messages.find((m) => m.raw.includes('scan 1')));
  assert.match(got.raw, /^Received: from client\.test \(\[127\.0\.0\.2\]\)/);
  assert.match(got.raw, /X-Mailgate-Attribution: direct-send; basis=mail-from\r\n/);
  assert.doesNotMatch(got.raw, /forged/, 'an incoming X-Mailgate header must be stripped');
  const t = await waitFor(() => traceOf(id));
  assert.equal(t?.message.attribution, 'direct-send');
  assert.equal(t?.message.clientIp, '127.0.0.2');
});

test('connector by IP, external sender, OnPremises relay and authenticated submission are accepted', async () => {
  const printer = await session(ports.mx, '127.0.0.10');
  ok((await printer.sendMail('printer@example.com', ['user@example.com'], message({ from: 'printer@example.com', to: 'user@example.com', subject: 'via connector' }))).eod);
  await printer.quit();
  const ext = await session(ports.mx, '127.0.0.4');
  ok((await ext.sendMail('bob@contoso.test', ['user@example.com'], message({ from: 'bob@contoso.test', to: 'user@example.com', subject: 'external' }))).eod);
  await ext.quit();
  const onprem = await session(ports.mx, '127.0.0.30');
  ok((await onprem.sendMail('app@example.com', ['someone@outside.test'], message({ from: 'app@example.com', to: 'someone@outside.test', subject: 'onprem relay' }))).eod);
  await onprem.quit();
  const sub = await session(ports.submission, '127.0.0.5');
  assert.equal((await sub.starttls()).code, 220);
  ok(await sub.cmd('EHLO client.test'));
  const auth = await sub.cmd('AUTH PLAIN ' + Buffer.from('\0alice@example.com\0correct horse').toString('base64'));
  assert.equal(auth.code, 235, auth.text);
  ok((await sub.sendMail('alice@example.com', ['friend@outside.test'], message({ from: 'alice@example.com', to: 'friend@outside.test', subject: 'submitted' }))).eod);
  await sub.quit();
  const via = await waitFor(() => sink.messages.find((m) => m.raw.includes('via connector')));
  assert.match(via.raw, /X-Mailgate-Attribution: connector; name="Printers"; type=Partner; matched-by=ip/);
  assert.match(via.raw, /X-Mailgate-Connector: Printers/);
  assert.match((await waitFor(() => sink.messages.find((m) => m.raw.includes('Subject: external')))).raw, /X-Mailgate-Attribution: anonymous-external/);
  assert.match((await waitFor(() => sink.messages.find((m) => m.raw.includes('onprem relay')))).raw, /matched-by=ip/);
  const s = await waitFor(() => sink.messages.find((m) => m.raw.includes('submitted')));
  assert.match(s.raw, /X-Mailgate-Attribution: authenticated; user="alice@example.com"/);
  assert.match(s.raw, /with ESMTPSA/);
  assert.deepEqual(s.to, ['friend@outside.test']);
});

test('anonymous relay to an outside domain is refused for every sender variant', async () => {
  for (const from of ['printer@example.com', 'bob@contoso.test', '']) {
    const c = await session(ports.mx, '127.0.0.4');
    assert.equal((await c.cmd(`MAIL FROM:<${from}>`)).code, 250);
    for (const rcpt of ['<someone@outside.test>', '<user%outside.test@example.com>', '<@example.com:user@outside.test>', '<outside.test!user@example.com>']) {
      const r = await c.cmd(`RCPT TO:${rcpt}`);
      assert.equal(r.code, 550, `${from} → ${rcpt}: ${r.text}`);
      assert.match(r.text, /^550 5\.7\.64 TenantAttribution; Relay Access Denied/);
      assert.match(r.text, /\[[0-9A-Z]+@[^\]]+\]$/, 'reply carries the trace id');
    }
    await c.quit();
  }
});

test('restricted partner connector rejects its sender domain from a wrong IP (5.7.51)', async () => {
  const c = await session(ports.mx, '127.0.0.21');
  assert.equal((await c.cmd('MAIL FROM:<ap@fabrikam.test>')).code, 250);
  const r = await c.cmd('RCPT TO:<user@example.com>');
  assert.equal(r.code, 550);
  assert.match(r.text, /^550 5\.7\.51 TenantInboundAttribution; There is a partner connector configured that matched the message's recipient domain/);
  await c.quit();
  const good = await session(ports.mx, '127.0.0.20');
  ok((await good.sendMail('ap@fabrikam.test', ['user@example.com'], message({ from: 'ap@fabrikam.test', to: 'user@example.com' }))).eod);
  await good.quit();
});

test('AUTH before STARTTLS and a wrong password are refused', async () => {
  const c = await session(ports.submission, '127.0.0.5');
  const early = await c.cmd('AUTH PLAIN ' + Buffer.from('\0alice@example.com\0correct horse').toString('base64'));
  assert.equal(early.code, 538, early.text);
  const mail = await c.cmd('MAIL FROM:<alice@example.com>');
  assert.equal(mail.code, 530);
  assert.match(mail.text, /^530 5\.7\.57 Client was not authenticated to send anonymous mail during MAIL FROM/);
  await c.starttls();
  await c.cmd('EHLO client.test');
  const bad = await c.cmd('AUTH PLAIN ' + Buffer.from('\0alice@example.com\0wrong').toString('base64'));
  assert.equal(bad.code, 535);
  assert.match(bad.text, /^535 5\.7\.3 Authentication unsuccessful/);
  await c.quit();
});

test('AUTH inside a mail transaction is refused (503 5.5.1, RFC 4954 §4); after RSET it is accepted', async () => {
  const c = await session(ports.mx, '127.0.0.5');
  await c.starttls();
  const ehlo = await c.cmd('EHLO client.test');
  assert.match(ehlo.text, /AUTH PLAIN LOGIN/);
  const plain = 'AUTH PLAIN ' + Buffer.from('\0alice@example.com\0correct horse').toString('base64');
  assert.equal((await c.cmd('MAIL FROM:<someone@outside.test>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<user@example.com>')).code, 250, 'accepted as anonymous mail');
  const mid = await c.cmd(plain);
  assert.equal(mid.code, 503, mid.text);
  assert.match(mid.text, /^503 5\.5\.1 Error: AUTH not permitted during a mail transaction/);
  assert.equal((await c.cmd('RSET')).code, 250);
  const after = await c.cmd(plain);
  assert.equal(after.code, 235, after.text);
  await c.quit();
});

test('scoped listener, default deny, block list over allow list', async () => {
  const scoped = await SmtpTestClient.connect({ port: ports.scoped, localAddress: '127.0.0.2' });
  assert.equal(scoped.greeting.code, 554);
  assert.match(scoped.greeting.text, /^554 5\.7\.1 Access denied: client \[127\.0\.0\.2\] is not permitted/);
  await scoped.quit();
  const inside = await SmtpTestClient.connect({ port: ports.scoped, localAddress: '127.0.0.50' });
  assert.equal(inside.greeting.code, 220);
  await inside.quit();
  const deny = await session(ports.deny, '127.0.0.4');
  const m = await deny.cmd('MAIL FROM:<bob@contoso.test>');
  assert.equal(m.code, 550);
  assert.match(m.text, /^550 5\.7\.1 Delivery not authorized/);
  await deny.quit();
  const allowedOnDeny = await session(ports.deny, '127.0.0.10');
  assert.equal((await allowedOnDeny.cmd('MAIL FROM:<printer@example.com>')).code, 250, 'a connector-matched source passes default deny');
  await allowedOnDeny.quit();
  const blocked = await SmtpTestClient.connect({ port: ports.mx, localAddress: '127.0.0.66' });
  assert.equal(blocked.greeting.code, 554);
  assert.match(blocked.greeting.text, /^554 5\.7\.1 Client host \[127\.0\.0\.66\] blocked by policy/);
  await blocked.quit();
  const spam = await session(ports.mx, '127.0.0.4');
  assert.match((await spam.cmd('MAIL FROM:<x@spammer.test>')).text, /^550 5\.7\.1 Sender domain spammer\.test blocked by policy/);
  await spam.quit();
});

test('RejectDirectSend switched on by the CLI applies within a few config polls; connectors still pass', async () => {
  const set = cli(dir, ['org', 'set', '--reject-direct-send', 'true']);
  assert.equal(set.code, 0, set.stderr);
  const switchedAt = Date.now();
  let r: Reply | undefined;
  for (;;) {
    const c = await session(ports.mx, '127.0.0.2');
    await c.cmd('MAIL FROM:<printer@example.com>');
    r = await c.cmd('RCPT TO:<user@example.com>');
    await c.quit();
    if (r.code === 550 || Date.now() - switchedAt > 5000) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  // The config poll is 250 ms; the rest of the bound is for a machine busy with every other test
  // file (each probe is a whole SMTP session), so 3 s fails only a change that missed many polls.
  assert.ok(Date.now() - switchedAt < 3000, `took ${Date.now() - switchedAt} ms`);
  assert.equal(r.text.replace(/ \[[^\]]+\]$/, ''), DS_TEXT);
  // The same sender through the IP connector still passes.
  const printer = await session(ports.mx, '127.0.0.10');
  ok((await printer.sendMail('printer@example.com', ['user@example.com'], message({ from: 'printer@example.com', to: 'user@example.com' }))).eod);
  await printer.quit();
  // By certificate: a CA-issued client certificate matches the "Scanner cert" connector...
  const scanner = await session(ports.mx, '127.0.0.3');
  assert.equal((await scanner.starttls({ cert: scannerCert.cert, key: scannerCert.key })).code, 220);
  await scanner.cmd('EHLO scanner.example.com');
  const viaCert = await scanner.sendMail('scanner@example.com', ['user@example.com'], message({ from: 'scanner@example.com', to: 'user@example.com', subject: 'by cert' }));
  ok(viaCert.eod, 'certificate connector');
  await scanner.quit();
  assert.match((await waitFor(() => sink.messages.find((m) => m.raw.includes('by cert')))).raw, /name="Scanner cert"; type=Partner; matched-by=certificate/);
  // ...a certificate with the same name from another CA does not.
  const rogue = await session(ports.mx, '127.0.0.3');
  await rogue.starttls({ cert: rogueCert.cert, key: rogueCert.key });
  await rogue.cmd('EHLO scanner.example.com');
  await rogue.cmd('MAIL FROM:<scanner@example.com>');
  const refused = await rogue.cmd('RCPT TO:<user@example.com>');
  assert.equal(refused.text.replace(/ \[[^\]]+\]$/, ''), DS_TEXT);
  await rogue.quit();
  // The refusals are in the trace with their reply and attribution.
  const db = openDatabase(join(dir, 'mailgate.db'));
  try {
    const refusedDs = (): ReturnType<typeof searchTrace> =>
      searchTrace(db, { status: 'Rejected', attribution: 'direct-send' }).filter((x) => x.reply?.startsWith('550 5.7.68'));
    const rows = await waitFor(() => (refusedDs().length >= 2 ? refusedDs() : undefined));
    assert.deepEqual(new Set(rows.map((x) => x.clientIp)), new Set(['127.0.0.2', '127.0.0.3']));
    assert.ok(rows.every((x) => x.mailFrom === 'printer@example.com' || x.mailFrom === 'scanner@example.com'));
  } finally {
    db.close();
  }
});

test('the header-From opt-in (beyond Exchange) rejects a spoofed From at end of DATA', async () => {
  const external = message({ from: 'ceo@example.com', to: 'user@example.com', subject: 'spoofed header from' });
  // Off: Exchange only checks MAIL FROM, so an outside envelope sender with our From header passes.
  const before = await session(ports.mx, '127.0.0.4');
  ok((await before.sendMail('bounce@contoso.test', ['user@example.com'], external)).eod, 'opt-in off');
  await before.quit();
  assert.equal(cli(dir, ['org', 'set', '--reject-direct-send-header-from', 'true']).code, 0);
  // Every receive process picks the change up at its next config poll (the bound is the test
  // above's): send until one refuses, rather than sleep a fixed time that a loaded machine overruns.
  const since = Date.now();
  let c: Awaited<ReturnType<typeof session>>;
  let r: Awaited<ReturnType<typeof c.sendMail>>;
  for (;;) {
    c = await session(ports.mx, '127.0.0.4');
    r = await c.sendMail('bounce@contoso.test', ['user@example.com'], external);
    if (r.eod?.code !== 250 || Date.now() - since > 10_000) break;
    await c.quit();
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(r.rcpts[0]?.code, 250, 'the envelope is not Direct Send: RCPT is accepted');
  assert.equal(r.eod?.text.replace(/ \[[^\]]+\]$/, ''), DS_TEXT, 'refused at end of DATA');
  // A connector-matched source with the same header is still accepted.
  const printer = await session(ports.mx, '127.0.0.10');
  ok((await printer.sendMail('printer@example.com', ['user@example.com'], external)).eod);
  await printer.quit();
  await c.quit();
});

test('implicit TLS listener: TLS from the first byte, AUTH allowed at once', async () => {
  const c = await SmtpTestClient.connect({ port: ports.smtps, localAddress: '127.0.0.5', implicitTls: true });
  assert.equal(c.greeting.code, 220);
  assert.ok(c.tlsSocket?.getProtocol()?.startsWith('TLS'));
  const ehlo = await c.cmd('EHLO client.test');
  assert.match(ehlo.text, /AUTH PLAIN LOGIN/);
  assert.doesNotMatch(ehlo.text, /STARTTLS/);
  const auth = await c.cmd('AUTH PLAIN ' + Buffer.from('\0alice@example.com\0correct horse').toString('base64'));
  assert.equal(auth.code, 235, auth.text);
  const sendAs = await c.cmd('MAIL FROM:<bob@example.com>');
  assert.match(sendAs.text, /^550 5\.7\.60 SMTP; Client does not have permissions to send as this sender/);
  await c.quit();
});
