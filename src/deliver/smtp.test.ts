/**
 * @module deliver/smtp.test
 * The SMTP client against a real smtp-server on 127.0.0.1 (port 0): per-recipient outcomes,
 * byte-identical raw delivery, null sender, refused connections, STARTTLS policy, client
 * certificates, pool reuse and the MX walk.
 * Touches: loopback sockets and a temp dir only.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import forge from 'node-forge';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { Route } from '../config/schema.ts';
import type { DeliveryRequest } from '../queue/contract.ts';
import { createSmtpClient, type SmtpClient, envelopeAddress } from './smtp.ts';
import type { MxResolver } from './mx.ts';

interface Received { from: string; to: string[]; data: Buffer; secure: boolean }
interface Sink { port: number; received: Received[]; connections: number; close(): Promise<void> }

/** An smtp-server next hop: 550 for bad@, 451 for later@, collects everything else. */
async function startSink(extra: Partial<SMTPServerOptions> = {}): Promise<Sink> {
  const sink: Sink = { port: 0, received: [], connections: 0, close: async () => undefined };
  const reject = (code: number, text: string): Error => Object.assign(new Error(text), { responseCode: code });
  const server = new SMTPServer({
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    onConnect(_s, cb) { sink.connections++; cb(); },
    onRcptTo(addr, _s, cb) {
      if (addr.address.startsWith('bad@')) return cb(reject(550, '5.1.1 no such user'));
      if (addr.address.startsWith('later@')) return cb(reject(451, '4.2.0 mailbox busy, try later'));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const env = session.envelope;
        sink.received.push({ from: env.mailFrom ? env.mailFrom.address : '(none)', to: env.rcptTo.map((r) => r.address), data: Buffer.concat(chunks), secure: session.secure });
        cb(null, 'Ok queued as TEST');
      });
    },
    ...extra,
  });
  server.on('error', () => undefined); // refused handshakes are expected in the certificate test
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const addr = server.server.address();
  sink.port = typeof addr === 'object' && addr ? addr.port : 0;
  sink.close = () => new Promise<void>((res) => server.close(() => res()));
  return sink;
}

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const addr = s.address();
  await new Promise<void>((res) => s.close(() => res()));
  return typeof addr === 'object' && addr ? addr.port : 1;
}

/** A self-signed certificate (native RSA key, signed with node-forge). */
function selfSigned(cn: string): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01' + Date.now().toString(16);
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  const attrs = [{ name: 'commonName', value: cn }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([{ name: 'basicConstraints', cA: true }, { name: 'extKeyUsage', clientAuth: true, serverAuth: true }]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { key: keyPem, cert: forge.pki.certificateToPem(cert) };
}

const PREPEND = 'Received: from client.test by mailgate.test; Mon, 1 Jan 2024 00:00:00 +0000\r\n';
const STORED = 'From: a@sender.test\r\nSubject: hi\r\n\r\nbody line\r\n.leading dot\r\n\r\nend\r\n';

function request(mailFrom: string, recipients: string[]): DeliveryRequest {
  return {
    queueId: '01TESTQUEUEID00000', mailFrom, recipients, attempt: 1,
    meta: { id: '01TESTQUEUEID00000', receivedAt: 0, envelope: { mailFrom, rcptTo: recipients }, size: STORED.length, prependHeaders: PREPEND, facts: {} },
    openMessage: () => Readable.from([Buffer.from(PREPEND + STORED)]),
  };
}

function route(over: Partial<Route>): Route {
  return { name: 'hop', domains: ['*'], type: 'smtp', host: '127.0.0.1', port: 25, tls: 'opportunistic', pickupDir: 'pickup', ...over };
}

const noMx: MxResolver = async () => { throw Object.assign(new Error('unexpected lookup'), { code: 'ESERVFAIL' }); };
const clients: SmtpClient[] = [];
function client(over: Partial<Parameters<typeof createSmtpClient>[0]> = {}): SmtpClient {
  const c = createSmtpClient({ hostname: 'mailgate.test', resolveMx: noMx, timeouts: { connection: 3000, greeting: 3000, socket: 5000 }, ...over });
  clients.push(c);
  return c;
}
after(async () => { await Promise.all(clients.map((c) => c.closeAll())); });

test('mixed recipients: 250 delivered, 550 failed, 451 deferred; raw bytes identical; one pooled connection', async () => {
  const sink = await startSink();
  const c = client();
  const r = route({ port: sink.port });
  const out = await c.deliverSmtp(r, request('a@sender.test', ['good@x.test', 'bad@x.test', 'later@x.test']), ['good@x.test', 'bad@x.test', 'later@x.test']);
  assert.deepEqual(out.map((o) => [o.rcpt, o.status, o.code, o.enhanced]), [
    ['good@x.test', 'delivered', 250, undefined],
    ['bad@x.test', 'failed', 550, '5.1.1'],
    ['later@x.test', 'deferred', 451, '4.2.0'],
  ]);
  assert.equal(out[0]?.nextHop, `smtp:127.0.0.1:${sink.port}`);
  assert.match(out[1]?.reply ?? '', /^550 5\.1\.1 no such user/);
  assert.equal(sink.received.length, 1);
  assert.deepEqual(sink.received[0]?.to, ['good@x.test']);
  assert.equal(sink.received[0]?.data.toString('latin1'), PREPEND + STORED);
  await c.deliverSmtp(r, request('a@sender.test', ['good@x.test']), ['good@x.test']);
  assert.equal(sink.received.length, 2);
  assert.equal(sink.connections, 1, 'the second message reuses the pooled connection');
  await c.closeAll();
  await sink.close();
});

test('every recipient rejected: per-recipient codes from err.rejectedErrors', async () => {
  const sink = await startSink();
  const c = client();
  const rcpts = ['bad@x.test', 'later@x.test'];
  const out = await c.deliverSmtp(route({ port: sink.port }), request('a@sender.test', rcpts), rcpts);
  assert.deepEqual(out.map((o) => [o.status, o.code, o.enhanced]), [['failed', 550, '5.1.1'], ['deferred', 451, '4.2.0']]);
  assert.equal(sink.received.length, 0);
  await c.closeAll();
  await sink.close();
});

test('null sender is sent as MAIL FROM:<>', async () => {
  const sink = await startSink();
  const c = client();
  const out = await c.deliverSmtp(route({ port: sink.port }), request('', ['good@x.test']), ['good@x.test']);
  assert.equal(out[0]?.status, 'delivered');
  assert.equal(sink.received[0]?.from, '');
  await c.closeAll();
  await sink.close();
});

test('connection refused → deferred 4.4.1, no code', async () => {
  const port = await closedPort();
  const c = client();
  const req = request('a@sender.test', ['good@x.test']);
  const opened: Readable[] = [];
  const open = req.openMessage;
  req.openMessage = () => { const s = open(); opened.push(s); return s; };
  const out = await c.deliverSmtp(route({ port }), req, ['good@x.test']);
  assert.ok(opened.every((s) => s.destroyed), 'an unread message stream is released');
  assert.equal(out[0]?.status, 'deferred');
  assert.equal(out[0]?.code, undefined);
  assert.equal(out[0]?.enhanced, '4.4.1');
  assert.match(out[0]?.reply ?? '', /ECONNREFUSED|connect/i);
});

test('tls=required to a server without STARTTLS → deferred 4.7.4 with the server reply', async () => {
  const sink = await startSink({ disabledCommands: ['STARTTLS'] });
  const c = client();
  const out = await c.deliverSmtp(route({ port: sink.port, tls: 'required' }), request('a@sender.test', ['good@x.test']), ['good@x.test']);
  assert.equal(out[0]?.status, 'deferred');
  assert.equal(out[0]?.enhanced, '4.7.4');
  assert.equal(out[0]?.code, undefined, 'a refused STARTTLS is about the session, not the recipient');
  assert.match(out[0]?.reply ?? '', /TLS negotiation failed.*500/);
  assert.equal(sink.received.length, 0);
  await c.closeAll();
  await sink.close();
});

test('tls=opportunistic upgrades with STARTTLS when offered; tls=none stays plain', async () => {
  const sink = await startSink();
  const c = client();
  await c.deliverSmtp(route({ name: 'a', port: sink.port, tls: 'opportunistic' }), request('a@sender.test', ['good@x.test']), ['good@x.test']);
  await c.deliverSmtp(route({ name: 'b', port: sink.port, tls: 'none' }), request('a@sender.test', ['good@x.test']), ['good@x.test']);
  assert.deepEqual(sink.received.map((r) => r.secure), [true, false]);
  await c.closeAll();
  await sink.close();
});

test('client certificate: presented when the route names one (server requires it)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-cert-'));
  const server = selfSigned('next-hop.test');
  const clientCert = selfSigned('mailgate.test');
  writeFileSync(join(dir, 'c.pem'), clientCert.cert);
  writeFileSync(join(dir, 'c.key'), clientCert.key);
  const sink = await startSink({ key: server.key, cert: server.cert, ca: [clientCert.cert], requestCert: true, rejectUnauthorized: true });
  const c = client();
  const withCert = route({ name: 'cert', port: sink.port, tls: 'encrypt', clientCertFile: join(dir, 'c.pem'), clientKeyFile: join(dir, 'c.key') });
  const ok = await c.deliverSmtp(withCert, request('a@sender.test', ['good@x.test']), ['good@x.test']);
  assert.equal(ok[0]?.status, 'delivered', ok[0]?.reply);
  const without = await c.deliverSmtp(route({ name: 'nocert', port: sink.port, tls: 'encrypt' }), request('a@sender.test', ['good@x.test']), ['good@x.test']);
  assert.equal(without[0]?.status, 'deferred');
  assert.equal(sink.received.length, 1);
  const missing = await c.deliverSmtp(route({ name: 'gone', port: sink.port, clientCertFile: join(dir, 'no.pem'), clientKeyFile: join(dir, 'no.key') }), request('a@sender.test', ['good@x.test']), ['good@x.test']);
  assert.equal(missing[0]?.status, 'deferred');
  assert.match(missing[0]?.reply ?? '', /client certificate/);
  await c.closeAll();
  await sink.close();
});

test('mx: walks to the next MX on connection failure; null MX fails 5.1.10; no MX uses the domain', async () => {
  const sink = await startSink();
  const dead = await closedPort();
  const resolveMx: MxResolver = async (domain) => {
    if (domain === 'walk.test') return [{ exchange: 'mx2.walk.test', priority: 20 }, { exchange: 'mx1.walk.test', priority: 10 }];
    if (domain === 'null.test') return [{ exchange: '', priority: 0 }];
    throw Object.assign(new Error('no data'), { code: 'ENODATA' });
  };
  const dialled: string[] = [];
  const connectTo = (host: string): { host: string; port: number } => {
    dialled.push(host);
    return { host: '127.0.0.1', port: host === 'mx1.walk.test' ? dead : sink.port };
  };
  const c = client({ resolveMx, connectTo });
  const rcpts = ['good@walk.test', 'x@null.test', 'good@plain.test'];
  const out = await c.deliverMx(route({ type: 'mx', host: undefined, port: 25 }), request('a@sender.test', rcpts), rcpts);
  const byRcpt = new Map(out.map((o) => [o.rcpt, o]));
  assert.equal(byRcpt.get('good@walk.test')?.status, 'delivered');
  assert.equal(byRcpt.get('good@walk.test')?.nextHop, 'smtp:mx2.walk.test:25');
  assert.equal(byRcpt.get('x@null.test')?.status, 'failed');
  assert.equal(byRcpt.get('x@null.test')?.enhanced, '5.1.10');
  assert.equal(byRcpt.get('good@plain.test')?.status, 'delivered');
  assert.deepEqual(dialled.sort(), ['mx1.walk.test', 'mx2.walk.test', 'plain.test']);
  await c.closeAll();
  await sink.close();
});

test('envelope addresses: an IDN domain goes out as its A-label unless the local part needs SMTPUTF8', () => {
  assert.equal(envelopeAddress('user@bücher.de'), 'user@xn--bcher-kva.de');
  assert.equal(envelopeAddress('üser@bücher.de'), 'üser@bücher.de');
  assert.equal(envelopeAddress('user@example.com'), 'user@example.com');
  assert.equal(envelopeAddress(''), '');
});
