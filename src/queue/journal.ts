/**
 * @module queue/journal
 * Group commit for the spool: the commit journal. A small message (held in memory until commit)
 * is written to its msg/<id> file in the page cache, and the same bytes are appended to this
 * process's journal segment; the 250 waits for one fdatasync of the segment that started after
 * the append. Messages that finish DATA in the same few milliseconds share that flush, as a
 * database's commits share a log write: one flush per group instead of an fdatasync per file and
 * a directory fsync. (bench/: `smtp-relay-journal` against `smtp-relay-fsync`.)
 *
 * The msg/ file stays the queue's copy: the queue owner reads it to deliver and retires it, and
 * nothing else changes for it. The journal only has to outlive the time a file may not yet be on
 * disk, so a segment is settled shortly after it is sealed (full, or older than `maxAgeMs`):
 * every file of it still in msg/ is fdatasynced (most are already delivered and retired, so
 * there is little to flush), msg/ is fsynced, and the segment is emptied for reuse (a new
 * generation written into its header and flushed, so its old records are no longer its own) or,
 * beyond a few kept, deleted; a clean stop deletes them all. A gateway process also keeps one
 * spare segment written full of zeros (`prepare`), so that even a new segment's appends land in
 * allocated blocks and its flushes write no metadata. Disk: up to 6 segments of 8 MiB a process.
 *
 * A crash can leave segments behind: `replayJournal` (journal-replay.ts: start-up recovery, and
 * the queue owner for a receive worker that died) restores from them every message whose file is
 * missing or torn, unless its queue row is final, then deletes them. The segment format, and why
 * a record is trusted only whole: journal-format.ts. The group flush itself: group-commit.ts.
 *
 * Flushes and failures: a new segment's name is made durable with it (journal/ is fsynced with
 * its first flush). A flush that fails refuses every append it covered (451) and retires its
 * segment (Linux reports a failed writeback once, so what the file holds is unknown): sealed at
 * once, deleted once settled, never reused, and later appends to it are refused too. A settle
 * that fails is tried again (retryMs) and, at a stop, left for the next start.
 * Limits, all duplicates and never a loss: a refused append's record stays in its segment, so a
 * crash before the segment is settled can deliver a message whose client got 451 (a message an
 * admin deleted does not come back: its tombstone says it ended, delete.ts); and since SQLite commits
 * without a flush (WAL, synchronous = NORMAL), a power cut can lose the final state of messages
 * delivered in the seconds before it, which the replay then sends again.
 * Touches: the spool's journal/ directory, and msg/ files (flush; restore on replay).
 * RFCs: RFC 5321 §6.1 (a 250 after DATA takes responsibility for the message).
 */
import fs, { promises as fsp } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DirSync } from './dir-sync.ts';
import { GroupCommit } from './group-commit.ts';
import { recordHeader, segmentHeader } from './journal-format.ts';
import { writeAllSync } from './spool-writer.ts';

export interface JournalOptions {
  /** A segment is sealed once it holds this many bytes (default 8 MiB). */
  segmentBytes?: number;
  /** ...or once its first record is this old (default 5 s). */
  maxAgeMs?: number;
  /** How long after sealing a segment is settled (default 1 s: time for delivery to retire most files). */
  settleDelayMs?: number;
  /** After a settle failed, how long until it is tried again (default 10 s). */
  retryMs?: number;
  /** Told of a segment that could not be settled (it stays; tried again, and replayed at the next start). */
  onError?: (err: unknown, segment: string) => void;
  /** The flush of a segment (default fdatasync; tests hold it open or make it fail). */
  sync?: (fd: number) => Promise<void>;
  /** Told how long each group flush took, in seconds (metrics: the spool flush latency histogram). */
  onFlush?: (seconds: number) => void;
}

interface Segment {
  path: string;
  fd: number;
  gen: string;
  bytes: number;
  ids: string[];
  /** The flush that covers its last record (settled, never rejects). */
  flushed: Promise<void>;
  timer?: NodeJS.Timeout | undefined;
  /** Its name in journal/ is on disk (the directory was fsynced after the file was created). */
  named: boolean;
  /** A flush of it failed: sealed at once, deleted once settled, never reused. */
  failed: boolean;
}

/** Settled segments a process keeps for reuse. */
const FREE_SEGMENTS = 4;

const fdatasync = (fd: number): Promise<void> => new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));

/**
 * fdatasync on the event loop instead of in libuv's thread pool, for a group flush when nothing
 * else waits for the loop (`flushOnLoopWhen`): with one SMTP session the 250 waits for the flush
 * anyway, and the hand-off to a pool thread and the wake-up after it only add to the flush's
 * ~0.1–0.3 ms (load B +12–21 %, bench/README.md "Session 9"). With many sessions a flush on the
 * loop would stall all of them: every flush there cost load A 13 %.
 */
const flushOnLoop = (fd: number): Promise<void> => {
  try {
    fs.fdatasyncSync(fd);
    return Promise.resolve();
  } catch (err) {
    return Promise.reject(err as Error);
  }
};

/** This process's commit journal: append + group flush; sealed segments are settled and reused or deleted. */
export class CommitJournal {
  private current: Segment | undefined;
  private seq = 0;
  /** The group flush: appends that arrive before a flush begins share it (group-commit.ts). */
  private readonly commit = new GroupCommit<Segment>((segments) => this.flushGroup(segments));
  /** Sealed segments: their settle (done or not), and a way to start it without waiting for its delay. */
  private readonly settling = new Map<Promise<void>, () => void>();
  /** Settled segments kept for reuse. */
  private readonly free: Segment[] = [];
  private closing = false;
  /** The spare segment being written (prepare), and whether to keep one ready (prepare was called). */
  private preparing: Promise<void> | undefined;
  private keepSpare = false;
  private readonly segmentBytes: number;
  private readonly maxAgeMs: number;
  private readonly settleDelayMs: number;
  private readonly retryMs: number;
  private readonly sync: (fd: number) => Promise<void>;
  /** Whether a group flush may run on the event loop now (flushOnLoopWhen). */
  private onLoopWhen: (() => boolean) | undefined;
  /** Fsyncs of journal/ after a segment is created there (coalesced). */
  private readonly dirSync: DirSync;
  /** Counters for tests and the line each process logs when it stops. */
  readonly stats = { records: 0, flushes: 0, loopFlushes: 0, segments: 0, prepared: 0, reused: 0, settled: 0, filesFlushed: 0, failedFlushes: 0, failedSettles: 0 };

  constructor(
    readonly dir: string,
    private readonly msgDir: string,
    private readonly msgDirSync: DirSync,
    private readonly opts: JournalOptions = {},
  ) {
    this.segmentBytes = opts.segmentBytes ?? 8 * 1024 * 1024;
    this.maxAgeMs = opts.maxAgeMs ?? 5_000;
    this.settleDelayMs = opts.settleDelayMs ?? 1_000;
    this.retryMs = opts.retryMs ?? 10_000;
    this.sync = opts.sync ?? fdatasync;
    this.dirSync = new DirSync(dir);
  }

  /**
   * Append the spool file bytes of `id` (already written to msg/<id>); resolves after a flush of
   * the segment that started after the append, rejects if that flush failed. The write itself is
   * synchronous: one writev against the page cache (a write that throws leaves nothing counted:
   * the next record overwrites its bytes, and a replay stops at them).
   */
  append(id: string, parts: readonly Buffer[]): Promise<void> {
    const seg = this.segment();
    const bufs = [recordHeader(seg.gen, id, parts), ...parts];
    writeAllSync(seg.fd, bufs, seg.bytes);
    seg.bytes += bufs.reduce((n, b) => n + b.length, 0);
    seg.ids.push(id);
    this.stats.records++;
    const flushed = this.commit.join(seg);
    seg.flushed = flushed.catch(() => undefined);
    if (seg.bytes >= this.segmentBytes) this.seal(seg);
    return flushed;
  }

  /**
   * Seal the current segment and settle every sealed one now; delete the segments kept for reuse.
   * A clean stop leaves no segment, unless one could not be settled (the next start replays it).
   * Call it once nothing appends any more (the listeners are closed).
   */
  async close(): Promise<void> {
    this.closing = true;
    try {
      await this.preparing;
      if (this.current) this.seal(this.current);
      while (this.settling.size > 0) {
        for (const now of this.settling.values()) now();
        await Promise.all([...this.settling.keys()]);
      }
      for (const seg of this.free.splice(0)) {
        fs.closeSync(seg.fd);
        await fsp.unlink(seg.path).catch((err: unknown) => this.opts.onError?.(err, seg.path));
      }
    } finally {
      this.dirSync.close();
      this.closing = false;
    }
  }

  /**
   * Have an empty segment ready, its blocks written (zeros) and flushed, so that appends to it
   * change no metadata: its flushes write data blocks only (bench/: 0.11 against 0.17 ms per
   * append + fdatasync for a growing file). Done in the background; gateway processes call it at
   * start, and from then on the journal calls it whenever it takes its last free segment.
   */
  prepare(): void {
    this.keepSpare = true;
    if (this.preparing || this.closing || this.free.length > 0) return;
    const spare = this.createSegment().then(
      (seg) => {
        this.free.push(seg);
        this.stats.prepared++;
      },
      (err: unknown) => this.opts.onError?.(err, this.dir),
    );
    this.preparing = spare.finally(() => (this.preparing = undefined));
  }

  /**
   * Let group flushes run on the event loop whenever `when()` is true: the process's receiver
   * says so when it has at most one SMTP session open (nobody else to serve meanwhile).
   */
  flushOnLoopWhen(when: () => boolean): void {
    this.onLoopWhen = when;
  }

  /** The flush of a group: the injected one, or fdatasync in the thread pool or on the loop. */
  private groupSync(fd: number): Promise<void> {
    if (this.opts.sync) return this.opts.sync(fd);
    if (!this.onLoopWhen?.()) return fdatasync(fd);
    this.stats.loopFlushes++;
    return flushOnLoop(fd);
  }

  private segment(): Segment {
    if (this.current) return this.current;
    let seg = this.free.pop();
    if (seg) {
      // A settled or prepared segment: its header names a generation of its own, so what its
      // blocks held before (zeros, or the records of its last life) is not read as records.
      seg.bytes = segmentHeader(seg.gen).length;
      seg.ids = [];
      seg.flushed = Promise.resolve();
      this.stats.reused++;
      if (this.keepSpare && this.free.length === 0) this.prepare();
    } else {
      seg = this.createSegmentSync();
      if (this.keepSpare) this.prepare();
    }
    const timed = seg;
    seg.timer = setTimeout(() => this.seal(timed), this.maxAgeMs);
    seg.timer.unref();
    this.current = seg;
    return seg;
  }

  /** A new segment file, open, its header not yet written (`head`), not yet known to be named on disk. */
  private newSegment(): { seg: Segment; head: Buffer } {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const gen = randomBytes(8).toString('hex');
    const path = join(this.dir, `${process.pid}.${Date.now()}.${++this.seq}`);
    const fd = fs.openSync(path, 'wx', 0o600);
    this.stats.segments++;
    const head = segmentHeader(gen);
    return { seg: { path, fd, gen, bytes: head.length, ids: [], flushed: Promise.resolve(), named: false, failed: false }, head };
  }

  /** A segment created on the spot, growing with its appends (none was ready). */
  private createSegmentSync(): Segment {
    const { seg, head } = this.newSegment();
    try {
      fs.writeSync(seg.fd, head, 0, head.length, 0);
    } catch (err) {
      fs.closeSync(seg.fd);
      fs.rmSync(seg.path, { force: true });
      throw err;
    }
    return seg;
  }

  /** A segment written full of zeros past its header, flushed, its name on disk (prepare). */
  private async createSegment(): Promise<Segment> {
    const { seg, head } = this.newSegment();
    const { fd } = seg;
    try {
      const zeros = Buffer.alloc(Math.min(1024 * 1024, this.segmentBytes));
      const write = (buf: Buffer, pos: number): Promise<void> =>
        new Promise((resolve, reject) => fs.write(fd, buf, 0, buf.length, pos, (err) => (err ? reject(err) : resolve())));
      await write(head, 0);
      for (let pos = head.length; pos < this.segmentBytes; pos += zeros.length) await write(zeros.subarray(0, this.segmentBytes - pos), pos);
      await Promise.all([this.sync(fd), this.dirSync.sync()]);
    } catch (err) {
      fs.closeSync(fd);
      await fsp.rm(seg.path, { force: true });
      throw err;
    }
    seg.named = true;
    return seg;
  }

  private seal(seg: Segment, delayMs = this.settleDelayMs): void {
    if (this.current === seg) this.current = undefined;
    clearTimeout(seg.timer);
    let now!: () => void;
    const delay = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      timer.unref();
      now = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const settle: Promise<void> = delay
      .then(() => this.settle(seg))
      .finally(() => this.settling.delete(settle));
    this.settling.set(settle, now);
  }

  /**
   * Flush the files of a sealed segment still in msg/, then msg/ itself; then the segment is
   * emptied for reuse (a new generation in its header, flushed) or deleted. When any step fails
   * the segment stays as it is and is tried again later (at a stop: left for the next start).
   */
  private async settle(seg: Segment): Promise<void> {
    await seg.flushed;
    try {
      for (let i = 0; i < seg.ids.length; i++) {
        if (await flushIfPresent(join(this.msgDir, seg.ids[i] as string))) this.stats.filesFlushed++;
        // Most files are gone (a stat that finds nothing, ~1.5 µs): let the sessions run between batches of
        // them instead of holding the event loop for a whole segment's worth (~3,400 records).
        if (i % 128 === 127) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      await this.msgDirSync.sync();
      if (!this.closing && !seg.failed && this.free.length < FREE_SEGMENTS) {
        // Reused rather than deleted: an overwrite within blocks already allocated needs no
        // metadata in its flushes (bench/: 0.11 against 0.17 ms per append + fdatasync).
        const gen = randomBytes(8).toString('hex');
        const head = segmentHeader(gen);
        fs.writeSync(seg.fd, head, 0, head.length, 0);
        await this.sync(seg.fd);
        seg.gen = gen;
        this.free.push(seg);
      } else {
        await fsp.unlink(seg.path).catch((err: unknown) => {
          // Gone already (a replay removed it after its process looked dead): nothing left to do.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        });
        fs.closeSync(seg.fd);
      }
      this.stats.settled++;
    } catch (err) {
      this.stats.failedSettles++;
      this.opts.onError?.(err, seg.path);
      if (this.closing) fs.closeSync(seg.fd);
      else this.seal(seg, this.retryMs);
    }
  }

  /** One segment's flush; a segment new in journal/ also needs the directory on disk. */
  private async flush(seg: Segment): Promise<void> {
    // A flush after a failed one may report success for blocks that never reached the disk
    // (Linux reports a writeback error once): nothing more is acknowledged from this segment.
    if (seg.failed) throw new Error(`commit journal segment ${seg.path}: an earlier flush failed`);
    if (seg.named) return this.groupSync(seg.fd);
    // Both settle before this returns (a close must not meet an fsync in flight).
    const [data, dir] = await Promise.allSettled([this.groupSync(seg.fd), this.dirSync.sync()]);
    if (data.status === 'rejected') throw data.reason;
    if (dir.status === 'rejected') throw dir.reason;
    seg.named = true;
  }

  /** The flush of a group: every segment its appends went to (usually one). */
  private async flushGroup(items: ReadonlySet<Segment>): Promise<void> {
    this.stats.flushes++;
    const segments = [...items];
    const began = this.opts.onFlush ? performance.now() : 0;
    // Every flush settles before anyone may close or rewrite a segment (allSettled, not all).
    const results = await Promise.allSettled(segments.map((seg) => this.flush(seg)));
    this.opts.onFlush?.((performance.now() - began) / 1000);
    let failure: PromiseRejectedResult | undefined;
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') return;
      failure ??= r;
      // Linux reports a failed writeback once: what this file holds is unknown from here on.
      const seg = segments[i] as Segment;
      seg.failed = true;
      if (this.current === seg) this.seal(seg);
    });
    if (failure) {
      this.stats.failedFlushes++;
      throw failure.reason;
    }
  }
}

/** fdatasync msg/<id> when it exists; false when it is gone (retired, deleted or set aside). */
export async function flushIfPresent(path: string): Promise<boolean> {
  // Most are gone when a segment is settled: a stat that finds nothing costs a fifth of a failed
  // open (no Error object); any other failure still throws.
  if (fs.lstatSync(path, { throwIfNoEntry: false }) === undefined) return false;
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    await fdatasync(fd);
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

