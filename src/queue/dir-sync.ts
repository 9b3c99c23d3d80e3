/**
 * @module queue/dir-sync
 * Group commit for directory fsyncs (group-commit.ts). A rename into msg/ is durable only once
 * the directory itself is fsynced; under load many renames land within the same few
 * milliseconds, so they share one fsync. The guarantee kept for every caller: its promise
 * resolves only after an fsync of the directory that *started after* the caller asked (i.e. after
 * its rename), and rejects if that fsync failed.
 * The directory stays open (one descriptor per DirSync) so a sync is one fsync, not open+fsync+close.
 * Touches: one directory on disk (open read-only + fsync).
 * RFCs: none.
 */
import fs from 'node:fs';
import { GroupCommit } from './group-commit.ts';

/** Coalesces fsyncs of one directory: callers arriving while one is pending share the next one. */
export class DirSync {
  private readonly commit: GroupCommit;
  private fd = -1;

  /**
   * @param windowMs how long the first caller waits for others before the fsync starts
   *   (group-commit.ts; 0 = the next turn of the event loop).
   */
  constructor(
    readonly dir: string,
    windowMs = 0,
  ) {
    this.commit = new GroupCommit(() => this.fsyncDir(), windowMs);
  }

  /** Number of fsyncs actually issued (tests check coalescing with it). */
  get syncCount(): number {
    return this.commit.count;
  }

  /** Resolves after an fsync of the directory that started after this call. */
  sync(): Promise<void> {
    return this.commit.join();
  }

  private async fsyncDir(): Promise<void> {
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
