/**
 * @module test/helpers/dkim
 * Signs a test message with mailauth's dkimSign (relaxed/relaxed) and returns the message with its
 * DKIM-Signature prepended. `signTime` is always given: without it mailauth 4.13.3 computes `t=`
 * twice (once for the header it signs, once for the header it emits), each as
 * Math.round(Date.now() / 1000), so a signing that straddles a half second emits a header whose
 * signature does not verify (a flaky "bad signature" under load).
 * Touches: nothing.
 */
import { dkimSign } from 'mailauth';

export interface DkimKey {
  domain: string;
  selector: string;
  /** PKCS#8 PEM. */
  privateKey: string;
}

export async function signDkim(raw: Buffer | string, key: DkimKey): Promise<Buffer> {
  const data = { signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey, canonicalization: 'relaxed/relaxed' };
  const message = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
  // mailauth 4.13.3 signs only the signatureData entries.
  const res = await dkimSign(message, { ...data, signTime: new Date(), signatureData: [data] });
  if (res.errors.length) throw new Error(`dkimSign failed: ${JSON.stringify(res.errors)}`);
  return Buffer.concat([Buffer.from(res.signatures), message]);
}
