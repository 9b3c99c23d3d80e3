/**
 * @module audit/decode
 * Turns an export file into text, streaming: sniffs the encoding from its first bytes and decodes
 * chunk by chunk with a fatal TextDecoder, so an undecodable file is refused (with the byte offset)
 * instead of imported as mojibake.
 * Sniffing, in order: UTF-8 BOM (EF BB BF); UTF-16 LE BOM (FF FE); UTF-16 BE BOM (FE FF); no BOM
 * but zero bytes in the first 4 KiB: UTF-16 LE when the zeros sit mostly at odd offsets (ASCII text
 * "a\0b\0"), UTF-16 BE when mostly at even offsets, refused as binary otherwise; else UTF-8 (which
 * covers ASCII, Windows PowerShell 5.1 `Export-Csv`'s default, and PowerShell 7's UTF-8 without BOM).
 * A file that ends in the middle of a character (a cut-off UTF-16 file with an odd byte count, a
 * split UTF-8 sequence) is not refused: the whole characters are kept and `cutMidCharacter` is set.
 * Touches: the file (read only).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Hash } from 'node:crypto';

export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be';

export interface Sniffed {
  encoding: TextEncodingName;
  /** Bytes of BOM to skip. */
  bom: number;
  /** How the encoding was decided, for the summary. */
  how: string;
}

/** Thrown when a file is not text in a supported encoding. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** Decide the encoding from the first bytes of a file (see the module header). */
export function sniffEncoding(head: Uint8Array): Sniffed {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bom: 3, how: 'UTF-8 BOM' };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bom: 2, how: 'UTF-16 LE BOM' };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', bom: 2, how: 'UTF-16 BE BOM' };
  const n = Math.min(head.length, 4096);
  let even = 0;
  let odd = 0;
  for (let i = 0; i < n; i++) if (head[i] === 0) (i % 2 === 0 ? even++ : odd++);
  const zeros = even + odd;
  if (zeros === 0) return { encoding: 'utf-8', bom: 0, how: 'no BOM, no zero bytes: UTF-8' };
  const pairs = Math.floor(n / 2) || 1;
  if (odd >= pairs * 0.3 && odd > even * 4) return { encoding: 'utf-16le', bom: 0, how: 'no BOM, zero bytes at odd offsets: UTF-16 LE' };
  if (even >= pairs * 0.3 && even > odd * 4) return { encoding: 'utf-16be', bom: 0, how: 'no BOM, zero bytes at even offsets: UTF-16 BE' };
  throw new DecodeError(`contains ${zeros} zero bytes in its first ${n} bytes in no UTF-16 pattern: not a text export (binary, or a compressed file?)`);
}

/** Read the first `n` bytes of a file. */
export async function readHead(file: string, n = 4096): Promise<Uint8Array> {
  const fh = await open(file, 'r');
  try {
    const buf = new Uint8Array(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export interface DecodedChunk {
  text: string;
  /** Bytes of the file consumed so far (for progress). */
  bytes: number;
}

export interface DecodeState {
  /** Set when the file ended inside a multi-byte character. */
  cutMidCharacter: boolean;
  /** Set once the first chunk (whose BOM is skipped) was read. */
  started?: boolean | undefined;
}

/**
 * Stream a file as text chunks in the sniffed encoding. Throws DecodeError on bytes that are not
 * valid in that encoding (with the approximate byte offset). `hash` is fed every byte of the file,
 * BOM included.
 */
export async function* decodeFile(file: string, sniffed: Sniffed, state: DecodeState, chunkBytes = 1 << 20, hash?: Hash): AsyncGenerator<DecodedChunk> {
  const decoder = new TextDecoder(sniffed.encoding, { fatal: true, ignoreBOM: true });
  let bytes = sniffed.bom;
  // `stream: true` carries a character split across chunks over to the next call.
  for await (const whole of createReadStream(file, { highWaterMark: chunkBytes }) as AsyncIterable<Buffer>) {
    hash?.update(whole);
    const chunk = bytes === sniffed.bom && whole.length > 0 && !state.started ? whole.subarray(sniffed.bom) : whole;
    state.started = true;
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw new DecodeError(
        `is not valid ${sniffed.encoding.toUpperCase()} (encoding decided by ${sniffed.how}); the first bad bytes are within bytes ${bytes}-${bytes + chunk.length} — re-export it as UTF-8 or UTF-16 (Export-Csv -Encoding UTF8)`,
      );
    }
    bytes += chunk.length;
    if (text) yield { text, bytes };
  }
  try {
    const rest = decoder.decode();
    if (rest) yield { text: rest, bytes };
  } catch {
    state.cutMidCharacter = true;
  }
}
