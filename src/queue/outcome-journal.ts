/**
 * @module queue/outcome-journal
 * The delivered-outcome journal: what a next hop answered for an attempt, written the moment the
 * answer arrives and before the queue row records it, so a message the next hop accepted is never
 * delivered again because the store could not record that (a full disk, a failing database, a
 * crash in between). Recovery applies the records whose attempt is still open (row `active`, the
 * attempt number one past the row's) before any row is re-queued (recover.ts).
 * Two files, `<dir>/outcomes.0` and `.1`, preallocated at open (CAPACITY each), so a record is
 * written into blocks the file system already gave us: a full file system does not refuse it.
 * Frames: u32 length, u32 CRC-32, JSON (with the file's generation `g`); a file's records are read
 * from offset 0 while the CRC holds and `g` matches the first record's. A record is written with
 * one pwrite (in the page cache at once: it survives a crash of the process, as SQLite's own
 * commits do with synchronous=NORMAL) and fdatasynced when the store refused it. Once no record is
 * open, the file is reused from offset 0 under a new generation; when it fills while records are
 * open, those are copied into the other file under a new generation (fdatasynced) and writing
 * goes on there.
 * Touches: the two journal files.
 */
import { closeSync, constants, fdatasyncSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '../core/log.ts';
import type { RecipientOutcome } from './contract.ts';

/** One attempt's outcomes, as the store would record them. */
export interface OutcomeRecord {
  id: string;
  /** The attempt number (row.attempts + 1 when it started). */
  attempt: number;
  at: number;
  next: number;
  outcomes: RecipientOutcome[];
}

const CAPACITY = 4 * 1024 * 1024;
const HEAD = 8;
/** Past this offset, a file with no open record starts over. */
const REUSE_AT = 256 * 1024;

interface Slot {
  fd: number;
  gen: number;
  offset: number;
}

export class OutcomeJournal {
  private readonly slots: [Slot, Slot];
  private cur = 0;
  private handles = 0;
  /** Open records (written, not yet recorded by the store), by handle. */
  private readonly open = new Map<number, OutcomeRecord>();
  /** Records written / that could not be written (logged by the owner). */
  readonly stats = { written: 0, failed: 0, compactions: 0 };

  constructor(
    dir: string,
    private readonly logger: Logger,
    private readonly capacity = CAPACITY,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Not O_APPEND: records are written at the offsets we choose (pwrite).
    const slot = (n: number): Slot => ({ fd: openSync(join(dir, `outcomes.${n}`), constants.O_RDWR | constants.O_CREAT, 0o600), gen: 0, offset: 0 });
    this.slots = [slot(0), slot(1)];
    for (const s of this.slots) this.preallocate(s);
  }

  /** Every record both files hold, oldest generation first (recovery decides which still apply). */
  readAll(): OutcomeRecord[] {
    const found: Array<{ gen: number; recs: OutcomeRecord[] }> = this.slots.map((s) => readSlot(s.fd, this.capacity));
    const maxGen = Math.max(0, ...found.map((f) => f.gen));
    for (const s of this.slots) s.gen = Math.max(s.gen, maxGen);
    return found.sort((a, b) => a.gen - b.gen).flatMap((f) => f.recs);
  }

  /** Forget every record (after recovery applied them): both files invalidated and flushed. */
  clear(): void {
    const gen = Math.max(this.slots[0].gen, this.slots[1].gen) + 1;
    for (const s of this.slots) {
      s.gen = gen;
      writeSync(s.fd, Buffer.alloc(HEAD), 0, HEAD, 0);
      fdatasyncSync(s.fd);
      s.offset = 0;
    }
    this.open.clear();
  }

  /** Write a record; returns its handle for `settle`, or undefined when it could not be written (logged). */
  write(rec: OutcomeRecord): number | undefined {
    try {
      let s = this.slots[this.cur] as Slot;
      if (this.open.size === 0 && s.offset >= REUSE_AT) this.restart(s);
      let frame = encode(rec, s.gen);
      if (s.offset + frame.length > this.capacity) {
        s = this.compact();
        frame = encode(rec, s.gen);
        if (s.offset + frame.length > this.capacity) throw new Error('outcome journal full of open records');
      }
      writeSync(s.fd, frame, 0, frame.length, s.offset);
      s.offset += frame.length;
      const h = ++this.handles;
      this.open.set(h, rec);
      this.stats.written++;
      return h;
    } catch (err) {
      this.stats.failed++;
      this.logger.error({ err, queueId: rec.id }, 'outcome journal: record not written (a restart before the store records it may deliver it again)');
      return undefined;
    }
  }

  /** The store recorded it: the record is no longer needed. */
  settle(handle: number | undefined): void {
    if (handle !== undefined) this.open.delete(handle);
  }

  /** Make what is written durable (the store refused a record: it may be needed after a power cut). */
  sync(): void {
    try {
      fdatasyncSync((this.slots[this.cur] as Slot).fd);
    } catch (err) {
      this.logger.error({ err }, 'outcome journal: fdatasync failed');
    }
  }

  close(): void {
    for (const s of this.slots) closeSync(s.fd);
  }

  private preallocate(s: Slot): void {
    const size = fstatSync(s.fd).size;
    if (size >= this.capacity) return;
    try {
      const zeros = Buffer.alloc(64 * 1024);
      for (let at = size; at < this.capacity; at += zeros.length) writeSync(s.fd, zeros, 0, Math.min(zeros.length, this.capacity - at), at);
      fdatasyncSync(s.fd);
    } catch (err) {
      this.logger.warn({ err }, 'outcome journal: could not preallocate; records may fail on a full disk');
    }
  }

  /** Start the file over under a new generation (no record of it is open). */
  private restart(s: Slot): void {
    s.gen = Math.max(this.slots[0].gen, this.slots[1].gen) + 1;
    s.offset = 0;
  }

  /** Copy the open records into the other file under a new generation; it becomes current. */
  private compact(): Slot {
    const next = 1 - this.cur;
    const s = this.slots[next] as Slot;
    this.restart(s);
    const frames = [...this.open.values()].map((r) => encode(r, s.gen));
    const all = Buffer.concat(frames);
    if (all.length > this.capacity) throw new Error('outcome journal full of open records');
    writeSync(s.fd, all, 0, all.length, 0);
    fdatasyncSync(s.fd);
    s.offset = all.length;
    this.cur = next;
    this.stats.compactions++;
    return s;
  }
}

function encode(rec: OutcomeRecord, gen: number): Buffer {
  const body = Buffer.from(JSON.stringify({ g: gen, ...rec }));
  const frame = Buffer.alloc(HEAD + body.length);
  frame.writeUInt32LE(body.length, 0);
  frame.writeUInt32LE(crc32(body), 4);
  body.copy(frame, HEAD);
  return frame;
}

/** The records of one file: from offset 0, while frames are whole and of the first one's generation. */
function readSlot(fd: number, capacity: number): { gen: number; recs: OutcomeRecord[] } {
  const size = Math.min(fstatSync(fd).size, capacity);
  const buf = Buffer.alloc(size);
  readSync(fd, buf, 0, size, 0);
  const recs: OutcomeRecord[] = [];
  let gen = 0;
  for (let at = 0; at + HEAD <= size; ) {
    const len = buf.readUInt32LE(at);
    if (len === 0 || at + HEAD + len > size) break;
    const body = buf.subarray(at + HEAD, at + HEAD + len);
    if (crc32(body) !== buf.readUInt32LE(at + 4)) break;
    let parsed: OutcomeRecord & { g: number };
    try {
      parsed = JSON.parse(body.toString()) as OutcomeRecord & { g: number };
    } catch {
      break;
    }
    if (recs.length === 0) gen = parsed.g;
    else if (parsed.g !== gen) break;
    const { g: _gen, ...rec } = parsed;
    recs.push(rec);
    at += HEAD + len;
  }
  return { gen, recs };
}
