/**
 * @module queue/journal-format
 * The on-disk format of a commit journal segment (journal.ts) and its reading. A record is
 * trusted only whole: its header names the segment's generation, the id, the length and the
 * CRC-32 of the bytes; the first record that fails ends the segment (a torn tail was never
 * acknowledged, and the records of a segment's earlier life carry another generation).
 *
 * Segment format (journal/<pid>.<ms>.<seq>):
 * ```
 * "#MGJOURNAL 1 " gen "\n"                         gen: 16 hex digits, random per segment
 * "#MGJ " gen " " id " " length " " crc32 "\n"     then `length` bytes: the whole spool file
 * ...                                             (message + end record, spool-format.ts)
 * ```
 * Touches: nothing (pure encoding/decoding of buffers).
 * RFCs: none.
 */
import { crc32 } from 'node:zlib';

const SEGMENT_MAGIC = '#MGJOURNAL 1 ';
const RECORD_RE = /^#MGJ ([0-9a-f]{16}) ([A-Za-z0-9][A-Za-z0-9_-]{0,63}) (0|[1-9][0-9]{0,14}) (0|[1-9][0-9]{0,9})\n/;
/** The longest record header: "#MGJ " + 16 + " " + 64 + " " + 15 + " " + 10 + "\n". */
const MAX_HEADER = 5 + 16 + 1 + 64 + 1 + 15 + 1 + 10 + 1;

/** One whole record read back from a segment. */
export interface JournalRecord {
  id: string;
  /** The spool file's bytes. */
  payload: Buffer;
}

/** The header of a segment with generation `gen`. */
export function segmentHeader(gen: string): Buffer {
  return Buffer.from(`${SEGMENT_MAGIC}${gen}\n`, 'latin1');
}

/** The header of a record of `id` whose payload is `parts`. */
export function recordHeader(gen: string, id: string, parts: readonly Buffer[]): Buffer {
  let length = 0;
  let crc = 0;
  for (const p of parts) {
    length += p.length;
    crc = crc32(p, crc);
  }
  return Buffer.from(`#MGJ ${gen} ${id} ${length} ${crc}\n`, 'latin1');
}

/** The whole records of a segment, in order; parsing stops at the first that is not whole. */
export function parseSegment(buf: Buffer): JournalRecord[] {
  const first = buf.indexOf(0x0a);
  const head = first < 0 ? '' : buf.toString('latin1', 0, first + 1);
  const m = /^#MGJOURNAL 1 ([0-9a-f]{16})\n$/.exec(head);
  if (!m) return [];
  const gen = m[1];
  const out: JournalRecord[] = [];
  let off = first + 1;
  while (off < buf.length) {
    const text = buf.toString('latin1', off, Math.min(buf.length, off + MAX_HEADER));
    const r = RECORD_RE.exec(text);
    if (!r || r[1] !== gen) break;
    const start = off + r[0].length;
    const length = Number(r[3]);
    if (start + length > buf.length) break;
    const payload = buf.subarray(start, start + length);
    if (crc32(payload) !== Number(r[4])) break;
    out.push({ id: r[2] as string, payload });
    off = start + length;
  }
  return out;
}
