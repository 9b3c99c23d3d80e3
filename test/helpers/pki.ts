/**
 * @module test/helpers/pki
 * Test PKI: a throwaway CA and certificates it issues (client and/or server), for TLS tests of
 * listeners and connector certificate matching. Never used outside tests.
 * Touches: only the directory a test passes to writePem.
 * RFCs: 5280 (basicConstraints, keyUsage, extKeyUsage, subjectAltName).
 */
import { writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';
import { randomSerial, rsaKeyPair } from '../../src/smtp/certs.ts';

export interface Pem {
  cert: string;
  key: string;
}

function validity(cert: forge.pki.Certificate, days: number): void {
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000);
  cert.validity.notAfter = new Date(now + days * 86_400_000);
}

/** A self-signed CA certificate (basicConstraints CA, keyCertSign). */
export function createTestCa(cn = 'mailgate test CA'): Pem {
  const { privateKey, publicKey, keyPem } = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerial();
  validity(cert, 3650);
  const attrs = [{ name: 'commonName', value: cn }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true, digitalSignature: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}

/**
 * A leaf certificate signed by `ca`. `sans` entries that are IP addresses become IP SANs, the rest
 * DNS SANs. EKUs: serverAuth and/or clientAuth as asked (both when neither flag is given).
 */
export function issueCert(ca: Pem, opts: { cn: string; sans?: string[]; client?: boolean; server?: boolean; days?: number }): Pem {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const { privateKey, publicKey, keyPem } = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerial();
  validity(cert, opts.days ?? 365);
  cert.setSubject([{ name: 'commonName', value: opts.cn }]);
  cert.setIssuer(caCert.subject.attributes);
  const both = opts.client === undefined && opts.server === undefined;
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: both || !!opts.server, clientAuth: both || !!opts.client },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ];
  if (opts.sans?.length) {
    extensions.push({
      name: 'subjectAltName',
      altNames: opts.sans.map((s) => (isIP(s) ? { type: 7, ip: s } : { type: 2, value: s })),
    });
  }
  cert.setExtensions(extensions);
  cert.sign(caKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}

/** Write a PEM string to `dir/name` and return the path. */
export function writePem(dir: string, name: string, pem: string): string {
  const p = join(dir, name);
  writeFileSync(p, pem, { mode: name.endsWith('.key') ? 0o600 : 0o644 });
  return p;
}
