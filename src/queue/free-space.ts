/**
 * @module queue/free-space
 * Whether the file system holding the data dir (store and spool) is short of space, so the
 * receive side can answer MAIL FROM with 452 4.3.1 before a message is taken that could not be
 * written (Postfix's queue_minfree). statfs(2) space available to unprivileged users (bavail),
 * asked at most once a second; a failing statfs counts as "not low" (the writes themselves still
 * fail closed with 451 4.3.0).
 * Touches: statfs of the data dir.
 */
import { statfsSync } from 'node:fs';

const RECHECK_MS = 1000;

export class FreeSpaceGauge {
  private checkedAt = -Infinity;
  private low = false;
  /** Bytes available at the last look (for the log line). */
  available = Infinity;

  constructor(
    private readonly dir: string,
    /** The floor in bytes, read at each look (config may change). */
    private readonly floorBytes: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True while the space available in the data dir is under the floor. */
  isLow(): boolean {
    const floor = this.floorBytes();
    if (floor <= 0) return false;
    const t = this.now();
    if (t - this.checkedAt < RECHECK_MS) return this.low;
    this.checkedAt = t;
    try {
      const s = statfsSync(this.dir);
      this.available = s.bavail * s.bsize;
      this.low = this.available < floor;
    } catch {
      this.low = false;
    }
    return this.low;
  }
}
