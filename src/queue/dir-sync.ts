/**
 * @module queue/dir-sync
 * Group commit for directory fsyncs. A rename into msg/ is durable only once the directory itself
 * is fsynced; under load many renames land within the same few milliseconds, so they share one
 * fsync. The guarantee kept for every caller: its promise resolves only after an fsync of the
 * directory that *started after* the caller asked (i.e. after its rename), and rejects if that
 * fsync failed.
 * The directory stays open (one descriptor per DirSync) so a sync is one fsync, not open+fsync+close.
 * Touches: one directory on disk (open read-only + fsync).
 * RFCs: none.
 */
import fs from 'node:fs';

interface Batch {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Coalesces fsyncs of one directory: callers arriving while one is pending share the next one. */
export class DirSync {
  /** The batch that has not started its fsync yet (callers join it). */
  private waiting: Batch | null = null;
  private running = false;
  /** Number of fsyncs actually issued (tests check coalescing with it). */
  syncCount = 0;

  private fd = -1;

  /**
   * @param windowMs how long the first caller waits for others before the fsync starts (0 = the
   *   next turn of the event loop: callers of the same turn share it, and callers arriving while
   *   an fsync runs share the next one, which is where the coalescing comes from under load).
   */
  constructor(
    readonly dir: string,
    private readonly windowMs = 0,
  ) {}

  /** Resolves after an fsync of the directory that started after this call. */
  sync(): Promise<void> {
    if (this.waiting) return this.waiting.promise;
    this.waiting = newBatch();
    if (!this.running) this.schedule();
    return this.waiting.promise;
  }

  private schedule(): void {
    if (this.windowMs > 0) setTimeout(() => void this.run(), this.windowMs);
    else setImmediate(() => void this.run());
  }

  private async run(): Promise<void> {
    const batch = this.waiting;
    if (!batch) return;
    this.waiting = null;
    this.running = true;
    try {
      await this.fsyncDir();
      batch.resolve();
    } catch (err) {
      batch.reject(err);
    } finally {
      this.running = false;
      // Callers that arrived while this fsync ran need one that starts now.
      if (this.waiting) void this.run();
    }
  }

  private async fsyncDir(): Promise<void> {
    this.syncCount++;
    if (this.fd < 0) {
      this.fd = await new Promise<number>((resolve, reject) => fs.open(this.dir, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));
    }
    const fd = this.fd;
    try {
      await new Promise<void>((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      this.close(); // reopen on the next sync
      throw err;
    }
  }

  /** Release the directory descriptor (a later sync opens it again). */
  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    fs.close(fd, () => undefined);
  }
}
