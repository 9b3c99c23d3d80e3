/**
 * @module queue/spool-writer
 * SpoolWriter: the Writable the SMTP DATA stream is piped into. A message up to `spillBytes` is
 * held in memory until commit (no file exists for a message that is refused); a larger one is
 * spilled to msg/<id> as it arrives. `commit()` makes the message durable with as few steps on
 * the 250's path as the guarantee allows:
 * - a held message: take a free file as msg/<id> (or create it) → one writev of the message + the
 *   end record → close → the same bytes appended to the process's commit journal, whose group
 *   flush (one fdatasync for every message of the same few milliseconds) makes them durable
 *   (journal.ts; without a journal: as a spilled message);
 * - a spilled message: one write of the end record → fdatasync(file) and fsync(msg/) at the same
 *   time (the directory fsync is group-committed with every other message's, see dir-sync.ts,
 *   and starts after the file was created) → close.
 * Only after commit resolves may the SMTP layer answer 250. A file in msg/ without a valid end
 * record was never acknowledged (a crash while it was written); the recovery scan moves it aside.
 * `abort()` closes and removes the file, if one was created.
 * Touches: the spool directory (the msg/ file of one message).
 * RFCs: RFC 5321 §4.1.1.4 / §6.1 (a 250 after DATA takes responsibility for the message).
 */
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { encodeTrailer, type SpoolMeta } from './spool-format.ts';
import type { DirSync } from './dir-sync.ts';
import type { FilePool } from './file-pool.ts';
import type { CommitJournal } from './journal.ts';

/** Where a writer writes, and the directory syncer it commits through. */
export interface WriterTarget {
  msgPath: string;
  msgDirSync: DirSync;
  /** Messages up to this many bytes stay in memory until commit. */
  spillBytes: number;
  /** Reusable files (free/): a held message is written into one of them when there is one. */
  pool?: FilePool | undefined;
  /** Where a held message is made durable (group commit), instead of an fdatasync of its file. */
  journal?: CommitJournal | undefined;
}

type WriterState = 'open' | 'committing' | 'committed' | 'aborted';
type Cb = (err?: Error | null) => void;

function writeAll(fd: number, bufs: Buffer[], cb: Cb): void {
  const total = bufs.reduce((n, b) => n + b.length, 0);
  fs.writev(fd, bufs, (err, written) => {
    if (err) return cb(err);
    if (written === total) return cb();
    // Short write (rare on regular files): write what is left.
    const rest = Buffer.concat(bufs).subarray(written);
    writeAll(fd, [rest], cb);
  });
}

/**
 * Write every byte of `bufs` (one writev; a short write, rare on regular files, is completed),
 * at the file position, or at `position` when given. A write that throws leaves the rest unwritten.
 */
export function writeAllSync(fd: number, bufs: readonly Buffer[], position?: number): void {
  const total = bufs.reduce((n, b) => n + b.length, 0);
  const written = fs.writevSync(fd, bufs, position);
  if (written < total) writeAllSync(fd, [Buffer.concat(bufs).subarray(written)], position === undefined ? undefined : position + written);
}

function call(fn: (cb: Cb) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
}

/** A Writable onto msg/<id> (buffered while small); `commit` makes it durable, `abort` discards it. */
export class SpoolWriter extends Writable {
  private fd = -1;
  private created = false;
  private bytes = 0;
  /** CRC-32 of the message bytes so far (the end record carries it: file-pool.ts). */
  private crc = 0;
  /** Bytes not yet written to the file (all of a small message until commit). */
  private held: Buffer[] = [];
  /**
   * The async write (or create) in flight, if any. The descriptor is closed only after it has
   * settled: a number closed under a pending write could be reused by another message's file,
   * and the late write would land in it.
   */
  private inflight: Promise<void> = Promise.resolve();
  private state: WriterState = 'open';

  constructor(
    readonly id: string,
    private readonly target: WriterTarget,
  ) {
    super({ highWaterMark: 256 * 1024, autoDestroy: false, decodeStrings: true });
  }

  /** Message bytes written so far. */
  get bytesWritten(): number {
    return this.bytes;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: Cb): void {
    this.take([chunk], cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: Cb): void {
    this.take(
      chunks.map((c) => c.chunk),
      cb,
    );
  }

  override _destroy(err: Error | null, cb: Cb): void {
    this.inflight
      .then(() => this.closeFd())
      .then(
        () => cb(err),
        () => cb(err),
      );
  }

  /**
   * Make the message durable: end record, fdatasync + directory fsync, close.
   * Resolves with the meta as stored (its `id` and `size` are set from this writer).
   */
  async commit(meta: MessageMetaInput): Promise<SpoolMeta> {
    if (this.state !== 'open') throw new Error(`spool writer ${this.id}: commit after ${this.state}`);
    this.state = 'committing';
    try {
      await this.finishWriting();
      const stored: SpoolMeta = { ...meta, id: this.id, size: this.bytes, crc32: this.crc };
      const trailer = encodeTrailer(stored, this.bytes);
      if (this.fd < 0) {
        // A held message: reuse a free file or create one, write and close synchronously — each
        // is microseconds against the page cache, where a trip through libuv's thread pool costs
        // a thread wake-up and a context switch per call on a busy machine. Only the flush waits
        // off the event loop. (The id is new, so msg/<id> does not exist: the pool's rename
        // replaces nothing, and the create is O_EXCL.)
        const reused = this.target.pool?.take(this.target.msgPath);
        this.fd = reused ?? fs.openSync(this.target.msgPath, 'wx', 0o600);
        this.created = true;
        const parts = [...this.release(), trailer];
        writeAllSync(this.fd, parts);
        // A reused file may be longer than this message: cut its old bytes off.
        if (reused !== undefined) fs.ftruncateSync(this.fd, this.bytes + trailer.length);
        const journal = this.target.journal;
        if (journal) {
          // Group commit: the file stays in the page cache, its bytes go into the journal, and
          // the 250 waits for the flush of the journal that covers them (journal.ts).
          const fd = this.fd;
          this.fd = -1;
          fs.closeSync(fd);
          await journal.append(this.id, parts);
          this.state = 'committed';
          this.destroy();
          return stored;
        }
      } else {
        const spilled = this.fd;
        await call((cb) => writeAll(spilled, [trailer], cb));
      }
      const fd = this.fd;
      // Both settle before anything else touches fd (an abort after a failure closes it).
      const [data, dir] = await Promise.allSettled([call((cb) => fs.fdatasync(fd, cb)), this.target.msgDirSync.sync()]);
      if (data.status === 'rejected') throw data.reason;
      if (dir.status === 'rejected') throw dir.reason;
      this.fd = -1;
      fs.closeSync(fd);
      this.state = 'committed';
      this.destroy();
      return stored;
    } catch (err) {
      this.state = 'open'; // let abort() clean up
      throw err;
    }
  }

  /** Discard the message: close and remove its file, if one was created. */
  async abort(): Promise<void> {
    if (this.state === 'committed') throw new Error(`spool writer ${this.id}: abort after commit`);
    this.state = 'aborted';
    this.release();
    await this.destroyAndWait();
    await this.closeFd();
    if (this.created) await unlinkQuiet(this.target.msgPath);
  }

  /** Hold small messages in memory; once past spillBytes, create the file and write through. */
  private take(bufs: Buffer[], cb: Cb): void {
    for (const b of bufs) {
      this.bytes += b.length;
      this.crc = crc32(b, this.crc);
    }
    if (this.fd < 0 && this.bytes <= this.target.spillBytes) {
      this.held.push(...bufs);
      return cb();
    }
    const write = (): Promise<void> => call((done) => writeAll(this.fd, [...this.release(), ...bufs], done));
    const op = this.fd >= 0 ? write() : this.createFile().then(write);
    this.inflight = op.then(
      () => undefined,
      () => undefined,
    );
    op.then(
      () => cb(),
      (err: unknown) => cb(err as Error),
    );
  }

  private release(): Buffer[] {
    const out = this.held;
    this.held = [];
    return out;
  }

  private async createFile(): Promise<void> {
    const fd = await new Promise<number>((resolve, reject) =>
      fs.open(this.target.msgPath, 'wx', 0o600, (err, fd) => (err ? reject(err) : resolve(fd))),
    );
    this.created = true;
    if (this.state === 'aborted') {
      // abort() ran while the file was being created: it is not ours to keep.
      await call((cb) => fs.close(fd, cb));
      await unlinkQuiet(this.target.msgPath);
      throw new Error(`spool writer ${this.id}: aborted`);
    }
    this.fd = fd;
  }

  private async finishWriting(): Promise<void> {
    if (this.writableFinished) return;
    if (this.destroyed || this.errored) throw this.errored ?? new Error(`spool writer ${this.id} destroyed`);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        this.off('finish', onFinish);
        reject(err);
      };
      const onFinish = (): void => {
        this.off('error', onError);
        resolve();
      };
      this.once('finish', onFinish);
      this.once('error', onError);
      if (!this.writableEnded) this.end();
    });
  }

  /** Destroy the stream and wait until it is closed. */
  private destroyAndWait(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.once('close', () => resolve());
      this.destroy();
    });
  }

  private async closeFd(): Promise<void> {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    await call((cb) => fs.close(fd, cb));
  }
}

/** What commit() takes: the meta (id and size are filled in by the writer) plus the disposition. */
export type MessageMetaInput = Omit<SpoolMeta, 'id' | 'size'> & Partial<Pick<SpoolMeta, 'id' | 'size'>>;

async function unlinkQuiet(path: string): Promise<void> {
  try {
    await fs.promises.unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
