/**
 * @module auth/dkim-limit
 * mailauth's dkimVerify() with a cap on the DKIM signatures it verifies per message (OpenDKIM's
 * MaximumSignaturesToVerify; RFC 6376 §6.1 lets a verifier limit the signatures it checks, to
 * limit the DNS and CPU an attacker can make it spend). The signatures verified are those whose d=
 * aligns with the header From domain first (DMARC needs only those), then the rest in header order;
 * the others are marked `skip` in mailauth's own verifier before the body is read, so they cost no
 * body hash, no canonicalisation and no key lookup, and are returned as not checked.
 * The verifier is driven as dkimVerify() drives it (writeToStream), with the same result shape
 * (headerFrom, envelopeFrom, results and the non-enumerable headers and arc).
 * Pinned to mailauth 4.13.3 (package.json): DkimVerifier, writeToStream and getAlignment are
 * internals of that version (as in auth/dkim-headers).
 * Touches: DNS through the resolver in `options` (only for the signatures verified).
 * RFCs: 6376 §6.1 (verifier limits), 7489 §3.1.1 (relaxed alignment).
 */
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { dkimVerify, DNSResolver } from 'mailauth';

/** What this module uses of one parsed signature header in mailauth's DkimVerifier. */
interface SignatureHeader {
  type: 'DKIM' | 'ARC' | 'AS';
  signingDomain: string;
  selector: string;
  skip?: boolean;
  bodyHashKey?: string;
}

interface Verifier {
  messageHeaders(headers: unknown): Promise<void>;
  signatureHeaders: SignatureHeader[];
  bodyHashes: Map<string, unknown>;
  sealBodyHashKey?: string;
  headerFrom: string[];
  envelopeFrom: string | false;
  results: unknown[];
  headers: unknown;
  arc: unknown;
}

interface VerifierOptions {
  resolver: DNSResolver;
  sender?: string;
  minBitLength?: number;
}

const require = createRequire(import.meta.url);
// mailauth has no exports map and ships no types for its internals: typed here by hand.
const { DkimVerifier } = require('mailauth/lib/dkim/dkim-verifier') as { DkimVerifier: new (o: VerifierOptions) => Verifier };
const { writeToStream, getAlignment } = require('mailauth/lib/tools') as {
  writeToStream(stream: Verifier, input: Readable | Buffer): Promise<void>;
  getAlignment(fromDomain: string, domains: string[], strict?: boolean): { domain: string } | false;
};

type DkimResult = Awaited<ReturnType<typeof dkimVerify>>;

/** A signature that was not verified because of the cap. */
export interface UncheckedSignature {
  domain: string;
  selector: string;
}

/** Mark all but `max` DKIM signatures skip (aligned ones first); returns the skipped ones. */
export function capSignatures(v: Pick<Verifier, 'signatureHeaders' | 'bodyHashes' | 'sealBodyHashKey' | 'headerFrom'>, max: number): UncheckedSignature[] {
  const dkim = v.signatureHeaders.filter((s) => s.type === 'DKIM' && !s.skip);
  if (dkim.length <= max) return [];
  const fromDomain = v.headerFrom[0]?.split('@').pop() ?? '';
  const aligned = (s: SignatureHeader): boolean => fromDomain !== '' && getAlignment(fromDomain, [s.signingDomain]) !== false;
  const chosen = new Set([...dkim.filter(aligned), ...dkim.filter((s) => !aligned(s))].slice(0, max));
  const skipped: UncheckedSignature[] = [];
  for (const s of dkim) {
    if (chosen.has(s)) continue;
    s.skip = true;
    skipped.push({ domain: s.signingDomain.toLowerCase(), selector: s.selector });
  }
  // Body hashes only the signatures still verified (and an ARC seal) need: the rest cost nothing.
  const needed = new Set(v.signatureHeaders.filter((s) => !s.skip && s.bodyHashKey).map((s) => s.bodyHashKey));
  if (v.sealBodyHashKey) needed.add(v.sealBodyHashKey);
  for (const key of [...v.bodyHashes.keys()]) if (!needed.has(key)) v.bodyHashes.delete(key);
  return skipped;
}

/** dkimVerify() verifying at most `max` DKIM signatures; the rest come back in `notChecked`. */
export async function dkimVerifyLimited(input: Readable | Buffer, options: VerifierOptions, max: number): Promise<{ result: DkimResult; notChecked: UncheckedSignature[] }> {
  const v = new DkimVerifier(options);
  const own = v.messageHeaders.bind(v);
  let notChecked: UncheckedSignature[] = [];
  v.messageHeaders = async (headers: unknown): Promise<void> => {
    await own(headers);
    notChecked = capSignatures(v, max);
  };
  await writeToStream(v, input);
  const result = { headerFrom: v.headerFrom, envelopeFrom: v.envelopeFrom, results: v.results };
  // As dkimVerify() does: the parsed headers and the ARC data ride along, not enumerable.
  if (v.headers) Object.defineProperty(result, 'headers', { enumerable: false, configurable: false, writable: false, value: v.headers });
  if (v.arc) Object.defineProperty(result, 'arc', { enumerable: false, configurable: false, writable: false, value: v.arc });
  // Shaped as dkimVerify's (its .d.ts types the rows).
  return { result: result as unknown as DkimResult, notChecked };
}
