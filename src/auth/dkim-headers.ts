/**
 * @module auth/dkim-headers
 * mailauth's DKIM step for the header block of a message that carries no DKIM-Signature and no
 * ARC header (smtp/auth-run hands over only such blocks), without its stream. `dkimVerify()`
 * writes its input through a Writable that looks for the end of the header block one byte at a
 * time (a 4-byte window re-sliced per byte) behind two setImmediate hops; for an unsigned message
 * all it then does is parse the header block and read the From and ARC fields. This runs the same
 * steps of mailauth's own code directly: `parseHeaders` (lib/tools) on the block, then the
 * verifier's `messageHeaders` and `finalChunk`, so the result is mailauth's by construction
 * (test/auth/dkim-headers.test.ts compares both, every own property, on folded, multi-address,
 * grouped, encoded and bare-LF header blocks). Measured with 5,000 calls each: 23 → 7 µs for the
 * bench's 4-field block, 143 → 25 µs for a 4 KB block of 25 Received fields (bench/README.md,
 * session 6).
 * An empty block, one with a bare LF (mailauth rewrites those to CRLF first; the data guard
 * refuses them anyway), or one that carries a signature after all goes to `dkimVerify()` itself.
 * Pinned to mailauth 4.13.3 (package.json): these are internal modules of that version.
 * Touches: nothing (no DNS: with no signature there is no key to fetch).
 * RFCs: 6376 (DKIM), 8617 (ARC): only to find that there is nothing to verify.
 */
import { createRequire } from 'node:module';
import { dkimVerify, type DNSResolver } from 'mailauth';

/** The header fields as mailauth parses them. */
interface ParsedHeaders {
  parsed: Array<{ key: string | null; line: Buffer }>;
}

/** What this module uses of mailauth's DkimVerifier (lib/dkim/dkim-verifier.js, 4.13.3). */
interface Verifier {
  messageHeaders(headers: ParsedHeaders): Promise<void>;
  finalChunk(): Promise<void>;
  headerFrom: string[];
  envelopeFrom: string | false;
  results: unknown[];
  signatureHeaders: unknown[];
  arc: { chain: unknown };
  headers: ParsedHeaders | false;
}

interface VerifierOptions {
  resolver: DNSResolver;
  sender?: string;
  minBitLength?: number;
}

const require = createRequire(import.meta.url);
// mailauth has no exports map and ships no types for its internals: typed here by hand.
const { parseHeaders } = require('mailauth/lib/tools') as { parseHeaders(buf: Buffer): ParsedHeaders };
const { DkimVerifier } = require('mailauth/lib/dkim/dkim-verifier') as { DkimVerifier: new (o: VerifierOptions) => Verifier };

type DkimResult = Awaited<ReturnType<typeof dkimVerify>>;

/**
 * dkimVerify() of a header block with no DKIM-Signature or ARC field: the same result (headerFrom,
 * envelopeFrom, no results, and the non-enumerable `headers` and `arc`), without the byte-by-byte
 * stream.
 */
export async function verifyUnsignedHeaderBlock(block: Buffer, options: VerifierOptions): Promise<DkimResult> {
  // mailauth's parser never reads the headers of empty input, and rewrites bare LFs before it does.
  if (block.length === 0 || hasBareLf(block)) return dkimVerify(block, options);
  const v = new DkimVerifier(options);
  await v.messageHeaders(parseHeaders(block));
  if (v.signatureHeaders.length > 0 || v.arc.chain) return dkimVerify(block, options);
  await v.finalChunk();
  const result = { headerFrom: v.headerFrom, envelopeFrom: v.envelopeFrom, results: v.results };
  // As dkimVerify() does: the parsed headers and the ARC data ride along, not enumerable.
  if (v.headers) Object.defineProperty(result, 'headers', { enumerable: false, configurable: false, writable: false, value: v.headers });
  Object.defineProperty(result, 'arc', { enumerable: false, configurable: false, writable: false, value: v.arc });
  // Shaped as dkimVerify's (its .d.ts types the rows; an unsigned block has none).
  return result as unknown as DkimResult;
}

/** True when some LF in `b` is not preceded by a CR. */
function hasBareLf(b: Buffer): boolean {
  for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) if (i === 0 || b[i - 1] !== 13) return true;
  return false;
}
