/**
 * @module queue/spool
 * The message spool: the only code that creates, reads, moves or deletes message files.
 * Layout under `dir`:
 *   msg/<id>          message bytes + end record (format in spool-format.ts); a file without a
 *                     valid end record was never acknowledged (crash while written) or is damaged
 *   tmp/              leftovers of earlier versions, which wrote there first (deleted by scan())
 *   free/<name>       files of finished messages, kept to be reused for new ones (file-pool.ts);
 *                     never read as messages
 *   aside/<id>        corrupt or orphaned files, each with aside/<id>.reason (a text line)
 *   journal/<segment> commit journal segments: the bytes of recently committed small messages,
 *                     flushed once per group (journal.ts); emptied for reuse once their files are
 *                     on disk, deleted at a clean stop; replayed at start-up after a crash
 * A file in msg/ is the source of truth for an accepted message; queue rows are rebuilt from it.
 * Touches: the spool directory on disk, nothing else.
 * RFCs: none directly (message bytes are opaque; RFC 5321 §6.1 responsibility is why it fsyncs).
 */
import fs, { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { DirSync } from './dir-sync.ts';
import { FilePool } from './file-pool.ts';
import { CommitJournal, type JournalOptions } from './journal.ts';
import { replayJournal, type ReplayReport } from './journal-replay.ts';
import { SpoolWriter } from './spool-writer.ts';
import {
  SPOOL_NAME,
  decodeEndRecord,
  decodeMetaLine,
  SpoolCorruptError,
  TAIL_BYTES,
  type EndRecord,
  type SpoolMeta,
} from './spool-format.ts';

export { SpoolWriter } from './spool-writer.ts';

/** What scan() found in msg/: valid files (with their meta) and the ids moved aside. */
export interface SpoolScan {
  valid: SpoolMeta[];
  corrupt: string[];
  /** free/ entries that could not go back into the pool (moved aside). */
  freeAside: number;
}

export interface SpoolOptions {
  /** How long a directory fsync waits for other commits to join it (ms, default 0 = next turn). */
  dirSyncWindowMs?: number;
  /** Messages up to this many bytes are held in memory until commit (default 128 KiB). */
  spillBytes?: number;
  /** Reuse the files of finished messages (default true; file-pool.ts). */
  reuseFiles?: boolean;
  /** Group-commit held messages through a commit journal (default true; journal.ts). */
  journal?: boolean | JournalOptions;
}

function checkId(id: string): string {
  if (!SPOOL_NAME.test(id)) throw new Error(`invalid spool id: ${JSON.stringify(id)}`);
  return id;
}

/** The spool directory with its tmp/, msg/ and aside/ subdirectories. */
export class Spool {
  readonly tmpDir: string;
  readonly msgDir: string;
  readonly asideDir: string;
  readonly freeDir: string;
  readonly journalDir: string;
  /** This process's commit journal (undefined with journal: false). */
  readonly journal: CommitJournal | undefined;
  /** Coalesced fsyncs of msg/ (exposed for tests and metrics). */
  readonly msgDirSync: DirSync;
  /** Files of finished messages, reused for held messages (undefined with reuseFiles: false). */
  readonly pool: FilePool | undefined;
  private readonly spillBytes: number;

  constructor(
    readonly dir: string,
    opts: SpoolOptions = {},
  ) {
    this.tmpDir = join(dir, 'tmp');
    this.msgDir = join(dir, 'msg');
    this.asideDir = join(dir, 'aside');
    this.freeDir = join(dir, 'free');
    this.journalDir = join(dir, 'journal');
    this.msgDirSync = new DirSync(this.msgDir, opts.dirSyncWindowMs ?? 0);
    this.spillBytes = opts.spillBytes ?? 128 * 1024;
    // Only a held message is written into a reused file, so the file of a larger one is not kept.
    this.pool = opts.reuseFiles === false ? undefined : new FilePool(this.freeDir, { maxMessageBytes: this.spillBytes });
    const j = opts.journal ?? true;
    this.journal = j === false ? undefined : new CommitJournal(this.journalDir, this.msgDir, this.msgDirSync, j === true ? {} : j);
  }

  /** Create the directories (idempotent). */
  async init(): Promise<void> {
    let created = false;
    for (const d of [this.tmpDir, this.msgDir, this.asideDir, this.freeDir, this.journalDir]) {
      created = (await fsp.mkdir(d, { recursive: true, mode: 0o700 })) !== undefined || created;
    }
    // A new subdirectory's name must be on disk before anything durable goes into it.
    if (created) await fsyncDir(this.dir);
  }

  /** Path of a committed message file. */
  msgPath(id: string): string {
    return join(this.msgDir, checkId(id));
  }

  /** Start writing a message: a Writable onto msg/<id>; call commit() or abort() on it. */
  createWriter(id: string): SpoolWriter {
    return new SpoolWriter(id, { msgPath: this.msgPath(id), msgDirSync: this.msgDirSync, spillBytes: this.spillBytes, pool: this.pool, journal: this.journal });
  }

  /**
   * Settle journal segments left by processes that are gone (start-up, before scan(); or a
   * receive worker that died: `select` its segments): restore the files they acknowledged.
   */
  async replayJournal(isFinal: (id: string) => boolean, select?: (segment: string) => boolean): Promise<ReplayReport> {
    return replayJournal({ journalDir: this.journalDir, msgDir: this.msgDir, tmpDir: this.tmpDir, msgDirSync: this.msgDirSync, isFinal, select });
  }

  /** Settle this process's journal (its files flushed, its segments deleted): at shutdown. */
  async close(): Promise<void> {
    await this.journal?.close();
  }


  /** True when msg/<id> exists (not validated). */
  async exists(id: string): Promise<boolean> {
    try {
      await fsp.access(this.msgPath(id));
      return true;
    } catch {
      return false;
    }
  }

  /** Read and validate a committed file's end record; throws SpoolCorruptError or an fs error. */
  async readMeta(id: string): Promise<SpoolMeta> {
    const handle = await fsp.open(this.msgPath(id), 'r');
    try {
      const rec = await readEndRecord(handle, id);
      const buf = Buffer.alloc(rec.metaLineBytes);
      await readExactly(handle, buf, rec.messageBytes);
      return decodeMetaLine(id, buf, rec);
    } finally {
      await handle.close();
    }
  }

  /**
   * A fresh stream of prependHeaders + the stored message bytes (never the end record). With
   * `messageBytes` (the size recorded when the file was committed, e.g. the queue row's) the file
   * is opened once; without it the end record is read first to find where the message ends.
   */
  openMessage(id: string, prependHeaders: string, messageBytes?: number): Readable {
    const path = this.msgPath(id);
    async function* chunks(): AsyncGenerator<Buffer> {
      const head = Buffer.from(prependHeaders, 'utf8');
      const bytes = messageBytes ?? (await readEndRecordOf(path, id)).messageBytes;
      // Small messages were just written and sit in the page cache: read them in one synchronous
      // open/read/close instead of three trips through libuv's thread pool, behind the headers in
      // one buffer (one chunk is one socket write when it is relayed).
      if (bytes <= SYNC_READ_BYTES) {
        const whole = bytes === 0 ? head : readPrefixSync(path, bytes, head);
        if (whole.length > 0) yield whole;
        return;
      }
      if (head.length > 0) yield head;
      yield* fs.createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 256 * 1024 });
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  /** The header section as it would leave (prependHeaders + stored headers), at most `limit` bytes. */
  async readHeaders(id: string, prependHeaders: string, limit = 64 * 1024): Promise<string> {
    const parts: Buffer[] = [];
    let length = 0;
    const stream = this.openMessage(id, prependHeaders);
    for await (const chunk of stream) {
      parts.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= limit || (chunk as Buffer).includes('\n\n') || (chunk as Buffer).includes('\r\n\r\n')) break;
    }
    stream.destroy();
    const text = Buffer.concat(parts).subarray(0, limit).toString('utf8');
    const end = headerEnd(text);
    return end >= 0 ? text.slice(0, end) : text;
  }

  /** Delete a committed message file (missing is fine). */
  async remove(id: string): Promise<void> {
    try {
      await fsp.unlink(this.msgPath(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /**
   * Take a message that reached a final state out of msg/: its file goes to the pool (free/) to
   * be reused when the message was small enough to be held in memory (`size`: its message bytes),
   * else it is unlinked (missing is fine).
   */
  async retire(id: string, size: number): Promise<void> {
    if (!this.pool) return this.remove(id);
    await this.pool.retire(this.msgPath(id), id, size);
  }

  /**
   * Check a file's message bytes against the CRC-32 in its end record (`meta` from readMeta);
   * throws SpoolCorruptError when they differ. Files written before the CRC existed pass.
   * Needed wherever a file is registered from disk without a queue row: a crash during the
   * overwrite of a reused file can leave old blocks under a valid end record (file-pool.ts).
   */
  async verifyBody(meta: SpoolMeta): Promise<void> {
    if (meta.crc32 === undefined) return;
    let crc = 0;
    if (meta.size > 0) {
      for await (const chunk of fs.createReadStream(this.msgPath(meta.id), { start: 0, end: meta.size - 1, highWaterMark: 256 * 1024 })) {
        crc = crc32(chunk as Buffer, crc);
      }
    }
    if (crc !== meta.crc32) throw new SpoolCorruptError(meta.id, `message bytes do not match the CRC-32 of the end record`);
  }

  /** Move msg/<id> to aside/ and write aside/<name>.reason; returns the name used in aside/. */
  async moveAside(id: string, reason: string): Promise<string> {
    return this.setAside(this.msgDir, id, reason);
  }

  /**
   * Move `dir`/<entry> to aside/ with a .reason file; returns the name used in aside/. Only msg/ is
   * fsynced (a message file must not come back after it went aside); a free/ entry that came back
   * after a crash is checked again at the next start-up.
   */
  private async setAside(dir: string, entry: string, reason: string): Promise<string> {
    let name = entry;
    if (await pathExists(join(this.asideDir, name))) name = `${entry}-${Date.now()}`;
    await fsp.rename(join(dir, entry), join(this.asideDir, name));
    await fsp.writeFile(join(this.asideDir, `${name}.reason`), `${new Date().toISOString()} ${reason}\n`);
    await this.msgDirSync.sync();
    return name;
  }

  /** The ids of the files in msg/ (nothing is read, validated or moved). */
  async ids(): Promise<string[]> {
    return (await fsp.readdir(this.msgDir)).filter((name) => SPOOL_NAME.test(name));
  }

  /**
   * When msg/<id> last changed (ms since the epoch: its ctime, which a write and a rename both
   * set; a reused file keeps its old mtime until it is written), or undefined when it is gone.
   */
  async modifiedAt(id: string): Promise<number | undefined> {
    try {
      return (await fsp.stat(this.msgPath(id))).ctimeMs;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /**
   * Validate every file in msg/ (invalid ones go aside), delete leftovers in tmp/, and check the
   * pool (free/ entries that may not be reused go aside: FilePool.sanitize). Run at start-up,
   * before anything writes to the spool.
   */
  async scan(): Promise<SpoolScan> {
    await this.init();
    for (const name of await fsp.readdir(this.tmpDir)) await fsp.rm(join(this.tmpDir, name), { force: true, recursive: true });
    const result: SpoolScan = { valid: [], corrupt: [], freeAside: 0 };
    const inodes = new Set<number>();
    for (const name of (await fsp.readdir(this.msgDir)).sort()) {
      const problem = await this.validateEntry(name, result, inodes);
      if (problem === undefined) continue;
      await this.moveAside(name, problem);
      result.corrupt.push(name);
    }
    if (this.pool) {
      for (const name of await fsp.readdir(this.asideDir)) {
        const st = await fsp.lstat(join(this.asideDir, name)).catch(() => undefined);
        if (st) inodes.add(st.ino);
      }
      result.freeAside = await this.pool.sanitize(inodes, async (name, reason) => {
        await this.setAside(this.freeDir, name, reason);
      });
    }
    return result;
  }

  /** Adds a valid entry to `result.valid` (and its inode to `inodes`), or returns why it is not valid. */
  private async validateEntry(name: string, result: SpoolScan, inodes: Set<number>): Promise<string | undefined> {
    if (!SPOOL_NAME.test(name)) return 'unexpected file name in msg/';
    try {
      const stat = await fsp.lstat(join(this.msgDir, name));
      inodes.add(stat.ino);
      if (!stat.isFile()) return 'not a regular file';
      result.valid.push(await this.readMeta(name));
      return undefined;
    } catch (err) {
      if (err instanceof SpoolCorruptError) return err.reason;
      return `unreadable: ${(err as Error).message}`;
    }
  }
}

/** Largest message read synchronously on delivery. */
const SYNC_READ_BYTES = 256 * 1024;

/** `head` followed by the first `bytes` bytes of the file, in one buffer. */
function readPrefixSync(path: string, bytes: number, head: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(head.length + bytes);
  head.copy(buf, 0);
  const fd = fs.openSync(path, 'r');
  try {
    let done = 0;
    while (done < bytes) {
      const n = fs.readSync(fd, buf, head.length + done, bytes - done, done);
      if (n === 0) throw new Error('unexpected end of file');
      done += n;
    }
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

async function readEndRecord(handle: fsp.FileHandle, id: string): Promise<EndRecord> {
  const { size } = await handle.stat();
  const tail = Buffer.alloc(Math.min(size, TAIL_BYTES));
  await readExactly(handle, tail, size - tail.length);
  return decodeEndRecord(id, tail, size);
}

async function readEndRecordOf(path: string, id: string): Promise<EndRecord> {
  const handle = await fsp.open(path, 'r');
  try {
    return await readEndRecord(handle, id);
  } finally {
    await handle.close();
  }
}

async function readExactly(handle: fsp.FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new Error('unexpected end of file');
    done += bytesRead;
  }
}

/** Index of the blank line ending the header section (CRLF or bare LF), or -1. */
function headerEnd(text: string): number {
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 2;
  return lf >= 0 ? lf + 1 : -1;
}

async function fsyncDir(path: string): Promise<void> {
  const handle = await fsp.open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await fsp.access(path);
    return true;
  } catch {
    return false;
  }
}
