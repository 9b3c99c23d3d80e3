/**
 * @module deliver/tls-verify.test
 * Outbound TLS levels against real loopback next hops (issue 19 item 1): a sink presenting a
 * self-signed CN=attacker.invalid certificate gets nothing under verify/secure/required (deferred
 * 4.7.5 naming the failed check) and the message under encrypt; a certificate from a test CA with
 * the right name is accepted through caFile + tlsName, a wrong tlsName is not.
 * Touches: loopback sockets and a temp dir only.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Route } from '../config/schema.ts';
import type { DeliveryRequest } from '../queue/contract.ts';
import { createSmtpClient, type SmtpClient } from './smtp.ts';
import { tlsLevel } from './tls-policy.ts';
import { startSink, type Sink } from '../../test/helpers/sink.ts';
import { createTestCa, issueCert, writePem } from '../../test/helpers/pki.ts';

const dir = mkdtempSync(join(tmpdir(), 'mailgate-tlsv-'));
const ca = createTestCa();
const caFile = writePem(dir, 'ca.pem', ca.cert);
const attackerCa = createTestCa('attacker.invalid');
// A self-signed leaf: its own issuer, CN=attacker.invalid.
const attacker = { key: attackerCa.key, cert: attackerCa.cert };
const good = issueCert(ca, { cn: 'mailbox.contoso.test', sans: ['mailbox.contoso.test'], server: true });

const MSG = 'From: a@sender.test\r\nSubject: tls\r\n\r\nsecret body\r\n';
function request(): DeliveryRequest {
  return {
    queueId: '01TLSVERIFY0000000', mailFrom: 'a@sender.test', recipients: ['u@contoso.test'], attempt: 1,
    meta: { id: '01TLSVERIFY0000000', receivedAt: 0, envelope: { mailFrom: 'a@sender.test', rcptTo: ['u@contoso.test'] }, size: MSG.length, prependHeaders: '', facts: {} },
    openMessage: () => Readable.from([Buffer.from(MSG)]),
  };
}

function route(over: Partial<Route>): Route {
  return { name: over.tls ?? 'r', domains: ['*'], type: 'smtp', host: 'mailbox.contoso.test', port: 25, tls: 'verify', pickupDir: 'pickup', ...over };
}

const sinks: Sink[] = [];
const clients: SmtpClient[] = [];
function client(sink: Sink): SmtpClient {
  // The next hop's name is mailbox.contoso.test; it is dialled on loopback.
  const c = createSmtpClient({ hostname: 'mailgate.test', resolveMx: async () => [], connectTo: () => ({ host: '127.0.0.1', port: sink.port }), timeouts: { connection: 3000, greeting: 3000, socket: 5000 } });
  clients.push(c);
  return c;
}
after(async () => {
  await Promise.all(clients.map((c) => c.closeAll()));
  await Promise.all(sinks.map((s) => s.close()));
});

async function sinkWith(pem: { key: string; cert: string }): Promise<Sink> {
  const s = await startSink(0, { tls: pem });
  sinks.push(s);
  return s;
}

test('level names: the old ones map (opportunistic = may, required = verify)', () => {
  assert.equal(tlsLevel({ tls: 'opportunistic' }), 'may');
  assert.equal(tlsLevel({ tls: 'required' }), 'verify');
  assert.equal(tlsLevel({ tls: 'secure' }), 'secure');
});

test('self-signed CN=attacker.invalid: verify, secure and required defer 4.7.5 and send nothing', async () => {
  const sink = await sinkWith(attacker);
  const c = client(sink);
  for (const tls of ['verify', 'secure', 'required'] as const) {
    const [o] = await c.deliverSmtp(route({ tls }), request(), ['u@contoso.test']);
    assert.equal(o?.status, 'deferred', `${tls}: ${o?.reply}`);
    assert.equal(o?.enhanced, '4.7.5', o?.reply);
    assert.equal(o?.code, undefined);
    assert.match(o?.reply ?? '', /TLS certificate verification failed for mailbox\.contoso\.test \(tls: (verify|secure)\): .*certificate/i);
  }
  assert.equal(sink.messages.length, 0, 'nothing was sent to the impostor');
});

test('self-signed CN=attacker.invalid: encrypt delivers over TLS (unverified by choice)', async () => {
  const sink = await sinkWith(attacker);
  const [o] = await client(sink).deliverSmtp(route({ tls: 'encrypt' }), request(), ['u@contoso.test']);
  assert.equal(o?.status, 'delivered', o?.reply);
  assert.equal(sink.messages[0]?.secure, true);
});

test('a test-CA certificate with the right name: delivered with caFile; refused without it or with another tlsName', async () => {
  const sink = await sinkWith(good);
  const c = client(sink);
  const [ok] = await c.deliverSmtp(route({ tls: 'verify', caFile }), request(), ['u@contoso.test']);
  assert.equal(ok?.status, 'delivered', ok?.reply);
  assert.equal(sink.messages[0]?.secure, true);
  const [byName] = await c.deliverSmtp(route({ name: 'by-ip', tls: 'verify', host: '127.0.0.1', tlsName: 'mailbox.contoso.test', caFile }), request(), ['u@contoso.test']);
  assert.equal(byName?.status, 'delivered', byName?.reply);
  const [noCa] = await c.deliverSmtp(route({ name: 'no-ca', tls: 'verify' }), request(), ['u@contoso.test']);
  assert.equal(noCa?.enhanced, '4.7.5', 'the test CA is not a system CA');
  const [wrongName] = await c.deliverSmtp(route({ name: 'wrong', tls: 'verify', caFile, tlsName: 'other.contoso.test' }), request(), ['u@contoso.test']);
  assert.equal(wrongName?.status, 'deferred');
  assert.match(wrongName?.reply ?? '', /verification failed for other\.contoso\.test.*(altnames|not in the cert)/i);
  assert.equal(sink.messages.length, 2);
});

test('secure on an mx route: the certificate must name the recipient domain or a subdomain, not just the MX host', async () => {
  const inDomain = await sinkWith(issueCert(ca, { cn: 'mx1.contoso.test', sans: ['mx1.contoso.test'], server: true }));
  const outside = await sinkWith(issueCert(ca, { cn: 'mx.hoster.test', sans: ['mx.hoster.test'], server: true }));
  const mx = (host: string) => async () => [{ exchange: host, priority: 10 }];
  const mxClient = (s: Sink, host: string): SmtpClient => {
    const c = createSmtpClient({ hostname: 'mailgate.test', resolveMx: mx(host), connectTo: () => ({ host: '127.0.0.1', port: s.port }), timeouts: { connection: 3000, greeting: 3000, socket: 5000 } });
    clients.push(c);
    return c;
  };
  const secure = route({ name: 'mx-secure', type: 'mx', host: undefined, tls: 'secure', caFile });
  const [ok] = await mxClient(inDomain, 'mx1.contoso.test').deliverMx(secure, request(), ['u@contoso.test']);
  assert.equal(ok?.status, 'delivered', ok?.reply);
  // The MX answer (unauthenticated DNS) names mx.hoster.test, whose certificate is valid for it:
  // verify accepts that, secure does not.
  const [verified] = await mxClient(outside, 'mx.hoster.test').deliverMx({ ...secure, name: 'mx-verify', tls: 'verify' }, request(), ['u@contoso.test']);
  assert.equal(verified?.status, 'delivered', verified?.reply);
  const [refused] = await mxClient(outside, 'mx.hoster.test').deliverMx(secure, request(), ['u@contoso.test']);
  assert.equal(refused?.status, 'deferred');
  assert.match(refused?.reply ?? '', /verification failed for contoso\.test \(tls: secure\)/);
});
