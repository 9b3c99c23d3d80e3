/**
 * @module smtp/certs.test
 * Tests for certs.ts against real TLS sockets on 127.0.0.1: CA-issued client certificates verify,
 * foreign self-signed ones do not; describePeerCertificate; ensureSelfSigned idempotence and modes.
 * Touches: a temp directory, sockets on 127.0.0.1 only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createTestCa, issueCert, writePem } from '../../test/helpers/pki.ts';
import { describePeerCertificate, ensureSelfSigned, generateSelfSigned, parseSanDns, type PeerCertSummary } from './certs.ts';

const ca = createTestCa();
const server = issueCert(ca, { cn: 'mx.test', sans: ['mx.test', '127.0.0.1'], server: true });

/** Connect with `client` cert; resolve with what the server saw. */
async function handshake(client: { cert: string; key: string } | undefined): Promise<{ authorized: boolean; peer: PeerCertSummary | undefined }> {
  const seen: Array<{ authorized: boolean; peer: PeerCertSummary | undefined }> = [];
  const srv = tls.createServer({ requestCert: true, rejectUnauthorized: false, ca: [ca.cert], cert: server.cert, key: server.key }, (sock) => {
    seen.push({ authorized: sock.authorized, peer: describePeerCertificate(sock.getPeerCertificate(false), sock.authorized) });
    sock.end('ok');
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  try {
    await new Promise<void>((resolve, reject) => {
      const c = tls.connect({ host: '127.0.0.1', port, ca: [ca.cert], servername: 'mx.test', ...(client ?? {}) }, () => {
        assert.equal(c.authorized, true, String(c.authorizationError));
      });
      c.on('data', () => undefined);
      c.on('end', () => resolve());
      c.on('error', reject);
    });
  } finally {
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
  assert.equal(seen.length, 1);
  return seen[0]!;
}

test('CA-issued client certificate: authorized, CN and SANs described', async () => {
  const client = issueCert(ca, { cn: 'relay.partner.example', sans: ['relay.partner.example', 'alt.partner.example', '10.1.2.3'], client: true });
  const { authorized, peer } = await handshake(client);
  assert.equal(authorized, true);
  assert.ok(peer);
  assert.equal(peer.subjectCN, 'relay.partner.example');
  assert.deepEqual(peer.sanDns, ['relay.partner.example', 'alt.partner.example']);
  assert.equal(peer.verified, true);
  assert.equal(peer.subject, 'CN=relay.partner.example');
  assert.equal(peer.issuer, 'CN=mailgate test CA');
  assert.match(peer.fingerprint256 ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
});

test('self-signed client certificate not from the CA: not authorized, still described', async () => {
  const stranger = createTestCa('stranger');
  const client = issueCert(stranger, { cn: 'evil.example', sans: ['evil.example'], client: true });
  const { authorized, peer } = await handshake(client);
  assert.equal(authorized, false);
  assert.equal(peer?.subjectCN, 'evil.example');
  assert.equal(peer?.verified, false);
  const selfSigned = generateSelfSigned('self.example');
  const r2 = await handshake(selfSigned);
  assert.equal(r2.authorized, false);
  assert.equal(r2.peer?.subjectCN, 'self.example');
});

test('no client certificate: describePeerCertificate gives undefined', async () => {
  const { authorized, peer } = await handshake(undefined);
  assert.equal(authorized, false);
  assert.equal(peer, undefined);
  assert.equal(describePeerCertificate(undefined, false), undefined);
});

test('describePeerCertificate: CN array, quoted SAN entries', () => {
  const fake = { subject: { CN: ['first', 'second'], O: 'Org' }, issuer: { CN: 'ca' }, subjectaltname: 'DNS:a.example, IP Address:127.0.0.1, DNS:"b,c.example", email:x@y' };
  const d = describePeerCertificate(fake as unknown as tls.PeerCertificate, true);
  assert.equal(d?.subjectCN, 'first');
  assert.equal(d?.subject, 'CN=first+CN=second, O=Org');
  assert.deepEqual(d?.sanDns, ['a.example', 'b,c.example']);
  assert.deepEqual(parseSanDns(undefined), []);
  assert.deepEqual(parseSanDns('DNS:x, DNS:y'), ['x', 'y']);
});

test('generateSelfSigned: CN, SANs, serverAuth, validity', () => {
  const { cert, key } = generateSelfSigned('mail.example.org', 30);
  const x = new X509Certificate(cert);
  assert.match(x.subject, /CN=mail\.example\.org/);
  assert.equal(x.subjectAltName, 'DNS:mail.example.org, DNS:localhost, IP Address:127.0.0.1');
  assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.ok(x.checkPrivateKey(createPrivateKey(key)));
  const days = (Date.parse(x.validTo) - Date.now()) / 86_400_000;
  assert.ok(days > 29 && days < 31);
  assert.ok(!x.serialNumber.startsWith('-'));
});

test('ensureSelfSigned: generated once, key mode 0600, no temp files left', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-certs-'));
  try {
    const a = ensureSelfSigned(dir, 'gw.example');
    assert.equal(a.generated, true);
    assert.equal(a.certFile, join(dir, 'tls', 'selfsigned.crt'));
    assert.equal(a.keyFile, join(dir, 'tls', 'selfsigned.key'));
    assert.equal(statSync(a.keyFile).mode & 0o777, 0o600);
    const pem = readFileSync(a.certFile, 'utf8');
    const b = ensureSelfSigned(dir, 'gw.example');
    assert.equal(b.generated, false);
    assert.equal(readFileSync(b.certFile, 'utf8'), pem);
    assert.deepEqual(readdirSync(join(dir, 'tls')).sort(), ['selfsigned.crt', 'selfsigned.key']);
    assert.equal(writePem(dir, 'ca.crt', ca.cert), join(dir, 'ca.crt'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
