/**
 * @module queue/group-commit
 * Group commit, the one mechanism behind every shared flush of the spool (a directory's fsync in
 * dir-sync.ts, a journal segment's fdatasync in journal.ts). Callers that arrive before a flush
 * starts share it; callers that arrive while one runs share the next. The guarantee kept for
 * every caller: its promise resolves only after a flush that *started after* it joined (so after
 * whatever it wrote), and rejects if that flush failed.
 * Touches: nothing itself (the flush given does).
 * RFCs: none.
 */

interface Batch<T> {
  items: Set<T>;
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function newBatch<T>(): Batch<T> {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { items: new Set(), promise, resolve, reject };
}

/** Coalesces flushes: one runs at a time, for every caller (and item) that joined before it began. */
export class GroupCommit<T = never> {
  /** The batch whose flush has not started yet (callers join it). */
  private waiting: Batch<T> | null = null;
  private running = false;
  /** Flushes started. */
  count = 0;

  /**
   * @param flush flushes what the batch's callers wrote; `items` are what they joined with.
   * @param windowMs how long the first caller waits for others before the flush starts (0 = the
   *   next turn of the event loop: callers of the same turn share it, and callers arriving while
   *   a flush runs share the next one, which is where the coalescing comes from under load).
   */
  constructor(
    private readonly flush: (items: ReadonlySet<T>) => Promise<void>,
    private readonly windowMs = 0,
  ) {}

  /** Resolves after a flush that started after this call (covering `item`, when given). */
  join(item?: T): Promise<void> {
    let batch = this.waiting;
    if (!batch) {
      batch = this.waiting = newBatch<T>();
      if (!this.running) this.schedule();
    }
    if (item !== undefined) batch.items.add(item);
    return batch.promise;
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
    this.count++;
    try {
      await this.flush(batch.items);
      batch.resolve();
    } catch (err) {
      batch.reject(err);
    } finally {
      this.running = false;
      // Callers that arrived while this flush ran need one that starts now.
      if (this.waiting) void this.run();
    }
  }
}
