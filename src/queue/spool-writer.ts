/**
 * @module queue/spool-writer
 * SpoolWriter: the Writable the SMTP DATA stream is piped into. It writes the message bytes to
 * tmp/<id> through a raw file descriptor (writev batches chunks), and `commit()` makes the message
 * durable: end record → fsync file → close → rename into msg/ → fsync msg/ (coalesced, see
 * dir-sync.ts). Only after commit resolves may the SMTP layer answer 250. `abort()` removes the
 * temporary file (and the committed one if commit failed after its rename).
 * Touches: the spool directory (tmp/ and msg/ files of one message).
 * RFCs: RFC 5321 §4.1.1.4 / §6.1 (a 250 after DATA takes responsibility for the message).
 */
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { encodeTrailer, type SpoolMeta } from './spool-format.ts';
import type { DirSync } from './dir-sync.ts';

/** Paths and the directory syncer a writer needs from its Spool. */
export interface WriterTarget {
  tmpPath: string;
  msgPath: string;
  msgDirSync: DirSync;
}

type WriterState = 'open' | 'committing' | 'committed' | 'aborted';

function writeAll(fd: number, bufs: Buffer[], cb: (err?: Error | null) => void): void {
  const total = bufs.reduce((n, b) => n + b.length, 0);
  fs.writev(fd, bufs, (err, written) => {
    if (err) return cb(err);
    if (written === total) return cb();
    // Short write (rare on regular files): write what is left.
    const rest = Buffer.concat(bufs).subarray(written);
    writeAll(fd, [rest], cb);
  });
}

function call(fn: (cb: (err?: Error | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));
}

/** A Writable onto tmp/<id>; `commit` makes it durable in msg/, `abort` discards it. */
export class SpoolWriter extends Writable {
  private fd = -1;
  private bytes = 0;
  private state: WriterState = 'open';
  private renamed = false;

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

  override _construct(cb: (err?: Error | null) => void): void {
    fs.open(this.target.tmpPath, 'wx', 0o600, (err, fd) => {
      if (err) return cb(err);
      this.fd = fd;
      cb();
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.bytes += chunk.length;
    writeAll(this.fd, [chunk], cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    const bufs = chunks.map((c) => c.chunk);
    for (const b of bufs) this.bytes += b.length;
    writeAll(this.fd, bufs, cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.closeFd().then(
      () => cb(err),
      () => cb(err),
    );
  }

  /**
   * Make the message durable: end record, fsync, close, rename into msg/, fsync msg/.
   * Resolves with the meta as stored (its `id` and `size` are set from this writer).
   */
  async commit(meta: MessageMetaInput): Promise<SpoolMeta> {
    if (this.state !== 'open') throw new Error(`spool writer ${this.id}: commit after ${this.state}`);
    this.state = 'committing';
    try {
      await this.finishWriting();
      const stored: SpoolMeta = { ...meta, id: this.id, size: this.bytes };
      const trailer = encodeTrailer(stored, this.bytes);
      await call((cb) => writeAll(this.fd, [trailer], cb));
      await call((cb) => fs.fsync(this.fd, cb));
      await this.closeFd();
      await fs.promises.rename(this.target.tmpPath, this.target.msgPath);
      this.renamed = true;
      await this.target.msgDirSync.sync();
      this.state = 'committed';
      this.destroy();
      return stored;
    } catch (err) {
      this.state = 'open'; // let abort() clean up
      throw err;
    }
  }

  /** Discard the message: close and remove the temporary file (or the renamed file if commit failed). */
  async abort(): Promise<void> {
    if (this.state === 'committed') throw new Error(`spool writer ${this.id}: abort after commit`);
    this.state = 'aborted';
    await this.destroyAndWait();
    await this.closeFd();
    await unlinkQuiet(this.target.tmpPath);
    if (this.renamed) await unlinkQuiet(this.target.msgPath);
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

  /** Destroy the stream and wait until its fd is closed (also waits out a pending open). */
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
