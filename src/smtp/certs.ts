/**
 * @module smtp/certs
 * TLS certificate helpers for the listeners: a self-signed fallback certificate (generated once
 * into the data directory so STARTTLS works out of the box), and a plain summary of the client
 * certificate a peer presented, for connector matching (`tlsSenderCertificateName`) and the trace.
 * X.509 building uses node-forge; RSA keys come from Node's native crypto (forge's keygen is slow).
 * Touches: the filesystem under `<dir>/tls/` only (ensureSelfSigned).
 * RFCs: 5280 (X.509 profile: SAN, EKU, serial), 3207 (STARTTLS), 6125 (identity in SAN/CN).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import forge from 'node-forge';

/** A positive serial of 16 random bytes, hex (RFC 5280 §4.1.2.2: positive, at most 20 octets). */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  if (b[0] === 0) b[0] = 0x01;
  return b.toString('hex');
}

/** A 2048-bit RSA key pair from native crypto, as forge objects plus the PKCS#8 PEM of the private key. */
export function rsaKeyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; keyPem: string } {
  const { privateKey: keyPem } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const privateKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const publicKey = forge.pki.setRsaPublicKey(privateKey.n, privateKey.e);
  return { privateKey, publicKey, keyPem };
}

/** Self-signed server certificate: CN=hostname, SAN DNS hostname + localhost + IP 127.0.0.1, serverAuth. */
export function generateSelfSigned(hostname: string, days = 825): { cert: string; key: string } {
  const { privateKey, publicKey, keyPem } = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerial();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000); // tolerate small clock skew
  cert.validity.notAfter = new Date(now + days * 86_400_000);
  const attrs = [{ name: 'commonName', value: hostname }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  const altNames: Array<{ type: number; value?: string; ip?: string }> = [{ type: 2, value: hostname }];
  if (hostname.toLowerCase() !== 'localhost') altNames.push({ type: 2, value: 'localhost' });
  altNames.push({ type: 7, ip: '127.0.0.1' });
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}

/** Write a file atomically: temp file in the same directory, then rename over the target. */
function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, data, { mode, flag: 'wx' });
  chmodSync(tmp, mode); // the umask may have narrowed or the platform ignored `mode`
  renameSync(tmp, path);
}

/**
 * Make sure `dir/tls/selfsigned.crt` and `.key` exist, generating them only when either is absent.
 * The key is written first, then the certificate, each atomically and mode 0600 (every file in the
 * data dir is the owner's alone; the certificate is public, but nobody else needs to read it).
 */
export function ensureSelfSigned(dir: string, hostname: string): { certFile: string; keyFile: string; generated: boolean } {
  const tlsDir = join(dir, 'tls');
  const certFile = join(tlsDir, 'selfsigned.crt');
  const keyFile = join(tlsDir, 'selfsigned.key');
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile, generated: false };
  mkdirSync(tlsDir, { recursive: true, mode: 0o700 });
  const { cert, key } = generateSelfSigned(hostname);
  writeAtomic(keyFile, key, 0o600);
  writeAtomic(certFile, cert, 0o600);
  return { certFile, keyFile, generated: true };
}

export interface PeerCertSummary {
  subjectCN?: string;
  sanDns: string[];
  verified: boolean;
  subject?: string;
  issuer?: string;
  fingerprint256?: string;
}

/** Node gives a subject/issuer field as a string, or an array when the attribute repeats. */
function firstOf(v: string | string[] | undefined): string | undefined {
  if (Array.isArray(v)) return v[0];
  return v;
}

/** "CN=x, O=y" from Node's subject object (repeated attributes joined with '+'). */
function dnString(dn: object | undefined): string | undefined {
  if (!dn) return undefined;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(dn) as Array<[string, unknown]>) {
    if (typeof v === 'string') parts.push(`${k}=${v}`);
    else if (Array.isArray(v)) parts.push(v.map((x) => `${k}=${String(x)}`).join('+'));
  }
  return parts.length ? parts.join(', ') : undefined;
}

/**
 * Parse Node's `subjectaltname` ("DNS:a, DNS:b, IP Address:1.2.3.4") into its DNS names. Node
 * quotes an entry holding a comma or quote as JSON ('DNS:"a,b"'), which is unquoted here.
 */
export function parseSanDns(san: string | undefined): string[] {
  if (!san) return [];
  const out: string[] = [];
  const re = /(?:^|,\s*)([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (let m = re.exec(san); m; m = re.exec(san)) {
    if (m[1] !== 'DNS') continue;
    let v = m[2] ?? '';
    if (v.startsWith('"')) {
      try {
        v = JSON.parse(v) as string;
      } catch {
        continue;
      }
    }
    v = v.trim();
    if (v) out.push(v);
  }
  return out;
}

/** Summary of a peer's certificate; undefined when there was none (Node returns {} then). */
export function describePeerCertificate(cert: PeerCertificate | undefined, verified: boolean): PeerCertSummary | undefined {
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const s: PeerCertSummary = { sanDns: parseSanDns(cert.subjectaltname), verified };
  // the typings say string, but Node yields string[] for a repeated attribute
  const cn = firstOf(cert.subject?.CN as string | string[] | undefined);
  if (cn) s.subjectCN = cn;
  const subject = dnString(cert.subject);
  if (subject) s.subject = subject;
  const issuer = dnString(cert.issuer);
  if (issuer) s.issuer = issuer;
  if (cert.fingerprint256) s.fingerprint256 = cert.fingerprint256;
  return s;
}
