/**
 * @module queue/spool-format
 * The on-disk format of one spool file and its validation. The file is the source of truth for an
 * accepted message (the queue row is only an index), so a file is trusted only when its end record
 * is present and every size in it adds up to the file size exactly.
 *
 * Format (all sizes in bytes, decimal ASCII, no leading zeros, no sign):
 * ```
 * offset 0      message bytes exactly as received (N bytes; no dot-stuffing, line endings untouched)
 * offset N      meta line: "\n#MGMETA " + JSON + "\n"             (M bytes)
 *               JSON = JSON.stringify(MessageMeta & { disposition }) — never contains a raw LF;
 *               its `size` equals N and its `id` equals the file name; `crc32` (files written
 *               since spool files are reused, file-pool.ts) is the CRC-32 of the N message bytes
 * offset N+M    end line:  "#MGEND " + N + " " + M + "\n"          (E bytes)
 * file size     N + M + E, exactly
 * ```
 * The meta line starts with its own LF so the message need not end in one; that LF belongs to the
 * meta line, not to the message. A file that fails any check is "corrupt" (truncated by a crash
 * before commit, or damaged) and is never delivered.
 * Touches: nothing (pure encoding/decoding of buffers).
 * RFCs: none (the message bytes are stored opaque; RFC 5322 content is not parsed here).
 */
import type { Disposition, MessageMeta } from './contract.ts';
import type { TraceEvent, TraceMessage } from '../trace/events.ts';

/** A spool file name (a queue id): never a path. Names in msg/ and free/ follow it. */
export const SPOOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * What the end record of a spool file carries: the message meta, its disposition and, for a
 * message that has them, the trace row and events its registration commits with the queue row
 * (so a registration that never arrived is rebuilt whole from the file: recover.ts, orphans.ts).
 */
export type SpoolMeta = MessageMeta & { disposition: Disposition; crc32?: number | undefined; registration?: { trace?: TraceMessage | undefined; events?: TraceEvent[] | undefined } | undefined };

/** Raised when a spool file's end record is missing or does not add up. */
export class SpoolCorruptError extends Error {
  constructor(
    readonly id: string,
    readonly reason: string,
  ) {
    super(`spool file ${id} is corrupt: ${reason}`);
    this.name = 'SpoolCorruptError';
  }
}

const META_PREFIX = '\n#MGMETA ';
const END_RE = /^#MGEND (0|[1-9][0-9]{0,14}) (0|[1-9][0-9]{0,14})\n$/;
/** The longest end line is "#MGEND " + 15 + " " + 15 + "\n" = 39 bytes; read a little more. */
export const TAIL_BYTES = 64;

/** Sizes read from a valid end line. */
export interface EndRecord {
  messageBytes: number;
  metaLineBytes: number;
  endLineBytes: number;
}

/** Encode the meta line and end line that follow `messageBytes` bytes of message. */
export function encodeTrailer(meta: SpoolMeta, messageBytes: number): Buffer {
  const metaLine = Buffer.from(META_PREFIX + JSON.stringify(meta) + '\n', 'utf8');
  const endLine = Buffer.from(`#MGEND ${messageBytes} ${metaLine.length}\n`, 'latin1');
  return Buffer.concat([metaLine, endLine]);
}

/** Parse the end line from the last bytes of a file; throws SpoolCorruptError. */
export function decodeEndRecord(id: string, tail: Buffer, fileSize: number): EndRecord {
  if (tail.length === 0 || tail[tail.length - 1] !== 0x0a) throw new SpoolCorruptError(id, 'no end record (file does not end in LF)');
  const start = tail.lastIndexOf(0x0a, tail.length - 2) + 1;
  const line = tail.subarray(start).toString('latin1');
  const m = END_RE.exec(line);
  if (!m) throw new SpoolCorruptError(id, 'no valid #MGEND line');
  const rec = { messageBytes: Number(m[1]), metaLineBytes: Number(m[2]), endLineBytes: line.length };
  const total = rec.messageBytes + rec.metaLineBytes + rec.endLineBytes;
  if (total !== fileSize) throw new SpoolCorruptError(id, `sizes add up to ${total}, file has ${fileSize} bytes`);
  return rec;
}

/** Parse and check the meta line (M bytes read at offset N). */
export function decodeMetaLine(id: string, buf: Buffer, rec: EndRecord): SpoolMeta {
  const text = buf.toString('utf8');
  if (buf.length !== rec.metaLineBytes || !text.startsWith(META_PREFIX) || !text.endsWith('\n')) {
    throw new SpoolCorruptError(id, 'meta line malformed');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(META_PREFIX.length, -1));
  } catch {
    throw new SpoolCorruptError(id, 'meta JSON does not parse');
  }
  const problem = checkMetaShape(parsed, id, rec.messageBytes);
  if (problem) throw new SpoolCorruptError(id, problem);
  return parsed as SpoolMeta;
}

/** Returns a description of what is wrong with a parsed meta object, or undefined if it is sound. */
function checkMetaShape(v: unknown, id: string, messageBytes: number): string | undefined {
  if (typeof v !== 'object' || v === null) return 'meta is not an object';
  const m = v as Record<string, unknown>;
  if (m.id !== id) return `meta id ${String(m.id)} does not match file name`;
  if (m.size !== messageBytes) return `meta size ${String(m.size)} does not match ${messageBytes} message bytes`;
  if (typeof m.receivedAt !== 'number') return 'meta receivedAt missing';
  if (typeof m.prependHeaders !== 'string') return 'meta prependHeaders missing';
  if (typeof m.facts !== 'object' || m.facts === null) return 'meta facts missing';
  if (m.disposition !== 'deliver' && m.disposition !== 'hold') return 'meta disposition invalid';
  if (m.crc32 !== undefined && !(Number.isInteger(m.crc32) && (m.crc32 as number) >= 0 && (m.crc32 as number) < 2 ** 32)) return 'meta crc32 invalid';
  const env = m.envelope as Record<string, unknown> | undefined;
  if (typeof env !== 'object' || env === null || typeof env.mailFrom !== 'string') return 'meta envelope invalid';
  const rcpt = env.rcptTo;
  if (!Array.isArray(rcpt) || rcpt.length === 0 || !rcpt.every((r) => typeof r === 'string')) return 'meta recipients invalid';
  return undefined;
}
