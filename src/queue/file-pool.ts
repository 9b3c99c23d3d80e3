/**
 * @module queue/file-pool
 * Spool files are reused instead of created and deleted once per message. On ext4 a create
 * allocates an inode, and the allocator skips every inode freed in the last seconds, reading the
 * inode table to find them (`recently_deleted` in fs/ext4/ialloc.c, always on without a journal):
 * under a queue's churn that scan is 0.2–0.6 ms of kernel CPU per message on the bench machine
 * (`perf record` of a create loop: 42 % in recently_deleted and its buffer lookups). So when a
 * message reaches a final state its file is renamed into free/ (if it was held in memory), and a
 * receive worker committing a small message renames a free file to msg/<id> and overwrites it,
 * then truncates it to the new length — a rename and a write instead of an inode allocation.
 *
 * Safety of a reused file:
 * - Its old bytes are never taken for a message: the end record must name the file's id
 *   (spool-format.ts), and a torn overwrite (a crash before the fdatasync of the 250's commit,
 *   i.e. a message never acknowledged) can leave old blocks under a new, valid end record, so the
 *   end record carries a CRC-32 of the message bytes, checked whenever a file is registered from
 *   disk without a queue row (recover.ts, orphans.ts). A file with a row was registered after its
 *   commit, so it is whole.
 * - A rename between two directories is one atomic step on a journaling file system; on one
 *   without a journal a crash can leave a free/ name and a msg/ name on the same inode. So at
 *   start-up (`sanitize`, before any receive worker runs) a free/ entry that is not a plain file,
 *   has more than one link, or shares its inode with a msg/ or aside/ file goes aside (never
 *   unlinked: that could free the message's inode) instead of back into the pool; so does a
 *   second free/ name of one inode (two workers would write two messages into one file).
 * - A delivered message's bytes stay in free/ (mode 0600 in a 0700 directory) until the file is
 *   reused or `trim` removes it: the queue owner unlinks free files idle for over a minute (it
 *   looks every 30 s). A free/ entry set aside keeps its old bytes in aside/, as any file there.
 * Processes: the queue owner retires, trims and sanitizes; receive workers take. Taking is a
 * rename, atomic between processes: a worker that loses a race for a name gets ENOENT and tries
 * the next. To keep such races and reads of free/ off the 250's path, the queue owner hands the
 * names it retired to the workers with its acks (`handOut`, `give`: daemon/ipc.ts), each name once,
 * as many as that worker's registrations just acked; a worker reads free/ only when it has none
 * left. (A name handed out is still in free/, so a process reading free/ meanwhile may race for it:
 * the rename decides, as above.) With two workers at load B: per commit 1.06 → 0.10 reads of
 * free/ and 0.73 → 0.12 lost renames (bench/README.md, session 6).
 * Touches: the spool's free/ and msg/ directories.
 * RFCs: none.
 */
import fs, { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { SPOOL_NAME } from './spool-format.ts';

export interface FilePoolOptions {
  /** Files of larger messages are unlinked, not pooled (only messages held in memory reuse files). */
  maxMessageBytes: number;
  /** Free-file names read per look into free/ (a bounded read: the directory may be large). */
  batch?: number;
  /** After a look found nothing, how long take() creates files without looking again (ms). */
  emptyBackoffMs?: number;
  now?: () => number;
}

/**
 * Why a free/ entry cannot go back into the pool, or undefined when it can. `freeInodes` holds the
 * inodes of the free/ entries checked before this one.
 */
function unsafeFreeEntry(st: fs.Stats, msgInodes: ReadonlySet<number>, freeInodes: ReadonlySet<number>): string | undefined {
  if (!st.isFile()) return 'not a regular file in free/';
  if (msgInodes.has(st.ino)) return 'free/ name of an inode a spool file also uses (unclean shutdown without a journal)';
  if (freeInodes.has(st.ino)) return 'free/ name of an inode another free/ entry uses (unclean shutdown without a journal)';
  if (st.nlink > 1) return `free/ file with ${st.nlink} links`;
  return undefined;
}

/** The spool's pool of reusable files (free/). */
export class FilePool {
  /** Names to try first: read from free/, or handed out by the queue owner (`give`). */
  private names: string[] = [];
  /** Names of files this process retired (at most a batch): its own takes and `handOut` use them. */
  private retired: string[] = [];
  private lookAgainAt = 0;
  private readonly batch: number;
  private readonly emptyBackoffMs: number;
  private readonly now: () => number;
  /** Counters for tests and the line each process logs when it stops. */
  readonly stats = { reused: 0, created: 0, retired: 0, unlinked: 0, trimmed: 0, looks: 0 };

  constructor(
    readonly freeDir: string,
    private readonly opts: FilePoolOptions,
  ) {
    this.batch = opts.batch ?? 64;
    this.emptyBackoffMs = opts.emptyBackoffMs ?? 10;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Move a free file to `path` and open it for writing (position 0, old bytes still there: the
   * caller writes and truncates). Undefined when the pool has none; the caller creates the file.
   * Synchronous: a rename and an open against the page cache, as the create it replaces.
   */
  take(path: string): number | undefined {
    for (let tries = 0; tries < 8; tries++) {
      const name = this.next();
      if (name === undefined) break;
      try {
        fs.renameSync(join(this.freeDir, name), path);
      } catch {
        continue; // taken by another worker (ENOENT) or trimmed: try the next one
      }
      try {
        const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW);
        this.stats.reused++;
        return fd;
      } catch {
        // Not a file we can write (sanitize keeps such entries out): out of msg/ again, next one;
        // should even that fail, out of msg/ for good (the caller then creates the file).
        try {
          fs.renameSync(path, join(this.freeDir, name));
        } catch {
          fs.rmSync(path, { force: true, recursive: true });
        }
      }
    }
    this.stats.created++;
    return undefined;
  }

  /**
   * Take msg/<id> out of the queue after its final attempt: into the pool when it is small enough
   * to be reused, else unlinked. A missing file is fine (removed already).
   * The rename is synchronous, like take's: a directory update against the page cache costs tens
   * of microseconds, where the thread-pool hand-off cost the queue owner 12 % of its busy time
   * under load (the main thread preempted by the woken pool thread on a busy machine: bench/,
   * "Session 7"). The unlink of a large file, which frees its blocks, stays off the event loop.
   */
  async retire(path: string, name: string, size: number): Promise<void> {
    try {
      if (size <= this.opts.maxMessageBytes) {
        fs.renameSync(path, join(this.freeDir, name));
        this.stats.retired++;
        // A process that both retires and takes (--workers 1) need not look into free/ for it; the
        // queue owner beside receive workers hands them out (handOut). A batch at most is kept.
        if (this.retired.length < this.batch) this.retired.push(name);
      } else {
        await fsp.unlink(path);
        this.stats.unlinked++;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  /**
   * Up to `max` of the names of files this process retired, for a receive worker (`give` there):
   * each retired name is handed out once at most (names read from free/ never are).
   */
  handOut(max: number): string[] {
    if (max <= 0 || this.retired.length === 0) return [];
    return this.retired.splice(Math.max(0, this.retired.length - max));
  }

  /**
   * Names handed out by the queue owner, tried before free/ is read. A name that is gone by then
   * costs one failed rename; one that is not a spool name is ignored.
   */
  give(names: readonly string[]): void {
    for (const name of names) {
      if (this.names.length >= 2 * this.batch) break;
      if (SPOOL_NAME.test(name)) this.names.push(name);
    }
  }

  /** Unlink free files not reused for `maxIdleMs` (their ctime is when they were retired). */
  async trim(maxIdleMs: number): Promise<number> {
    const before = this.now() - maxIdleMs;
    let n = 0;
    for (const name of await readdirQuiet(this.freeDir)) {
      try {
        const st = await fsp.lstat(join(this.freeDir, name));
        if (st.ctimeMs > before) continue;
        await fsp.unlink(join(this.freeDir, name));
        n++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    this.stats.trimmed += n;
    return n;
  }

  /**
   * Start-up check of free/ (see the module comment): every entry that cannot safely be reused
   * is handed to `setAside` with the reason. Run before any process takes from the pool.
   */
  async sanitize(msgInodes: ReadonlySet<number>, setAside: (name: string, reason: string) => Promise<void>): Promise<number> {
    let n = 0;
    const freeInodes = new Set<number>();
    for (const name of await readdirQuiet(this.freeDir)) {
      let reason: string | undefined;
      try {
        const st = await fsp.lstat(join(this.freeDir, name));
        reason = unsafeFreeEntry(st, msgInodes, freeInodes);
        freeInodes.add(st.ino);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        reason = `unreadable: ${(err as Error).message}`;
      }
      if (reason === undefined) continue;
      await setAside(name, reason);
      n++;
    }
    return n;
  }

  /** The next free name to try: given, then retired here, then read from free/ (at most every backoff). */
  private next(): string | undefined {
    if (this.names.length === 0) {
      if (this.retired.length > 0) return this.retired.pop();
      if (this.now() < this.lookAgainAt) return undefined;
      this.names = this.look();
      if (this.names.length === 0) {
        this.lookAgainAt = this.now() + this.emptyBackoffMs;
        return undefined;
      }
    }
    return this.names.pop();
  }

  /** Up to `batch` names from free/, shuffled (so two workers reading the same ones rarely collide). */
  private look(): string[] {
    this.stats.looks++;
    let dir: fs.Dir;
    try {
      dir = fs.opendirSync(this.freeDir, { bufferSize: this.batch });
    } catch {
      return [];
    }
    const out: string[] = [];
    try {
      for (let e = dir.readSync(); e !== null && out.length < this.batch; e = dir.readSync()) {
        if (e.isFile()) out.push(e.name);
      }
    } finally {
      dir.closeSync();
    }
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [out[i], out[j]] = [out[j] as string, out[i] as string];
    }
    return out;
  }
}

async function readdirQuiet(dir: string): Promise<string[]> {
  try {
    return await fsp.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
