/**
 * @module trace/shipper
 * Ships a fleet node's local trace outbox to the shared TraceStore in batches, in the queue owner,
 * off the SMTP path: replies never wait on it. A batch is acked (the high-water mark moves) only
 * after the store committed it; a failed or timed-out batch stays in the outbox and is sent again
 * (the store's writes are idempotent by message id and node + event sequence, so a batch whose
 * commit succeeded but whose ack was lost never duplicates). While the store is slow or down the
 * outbox grows and the shipper retries with a capped backoff; it catches up when the store is back.
 * Touches: the injected outbox and store.
 */
import type { TraceBatch, TraceStore } from './trace-store.ts';

export interface OutboxBacklog {
  /** Outbox entries not yet shipped. */
  rows: number;
  /** When the oldest of them was written (ms epoch), or undefined when none. */
  oldestAt: number | undefined;
}

/** A node's outbox (stores/sqlite/trace-outbox). Synchronous: it is the node's local file. */
export interface OutboxSource {
  /** Up to `limit` entries past the mark, as one batch, and the last entry's sequence. */
  read(limit: number): { batch: TraceBatch; lastSeq: number } | undefined;
  /** Everything up to `lastSeq` is in the store. */
  ack(lastSeq: number): void;
  backlog(): OutboxBacklog;
}

export interface ShipperOptions {
  outbox: OutboxSource;
  store: Pick<TraceStore, 'write'>;
  node: string;
  /** Outbox entries per batch (default 2000). */
  batchSize?: number | undefined;
  /** Pause between polls when the outbox is empty (default 200 ms). */
  idleMs?: number | undefined;
  /** First and largest pause after a failure (default 500 ms and 30 s). */
  retryMs?: number | undefined;
  maxRetryMs?: number | undefined;
  /** Called with each failure (logged by the caller; the shipper never throws). */
  onError?: ((err: unknown, backlog: OutboxBacklog) => void) | undefined;
}

export class TraceShipper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private failures = 0;
  /** Rows (messages + events) shipped since start, and batches that failed. */
  shipped = 0;
  failed = 0;
  lastError: string | undefined;

  constructor(private readonly o: ShipperOptions) {}

  /** Ship one batch; resolves to the entries shipped (0: the outbox was empty). Throws on a store error. */
  async shipOnce(): Promise<number> {
    const got = this.o.outbox.read(this.o.batchSize ?? 2000);
    if (!got) return 0;
    await this.o.store.write({ ...got.batch, node: this.o.node });
    this.o.outbox.ack(got.lastSeq);
    this.shipped += got.batch.messages.length + got.batch.events.length;
    return got.batch.messages.length + got.batch.events.length || 1;
  }

  /** Ship until the outbox is empty (or a failure, which throws). */
  async drain(): Promise<void> {
    while ((await this.shipOnce()) > 0) {
      /* next batch */
    }
  }

  backlog(): OutboxBacklog {
    return this.o.outbox.backlog();
  }

  /** Seconds since the oldest unshipped write (0 when the outbox is empty). */
  lagSeconds(now = Date.now()): number {
    const b = this.o.outbox.backlog();
    return b.oldestAt === undefined ? 0 : Math.max(0, (now - b.oldestAt) / 1000);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stop polling; waits for a batch in flight (its ack included). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick();
    }, ms);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let next = this.o.idleMs ?? 200;
    try {
      if ((await this.shipOnce()) > 0) next = 0;
      this.failures = 0;
      this.lastError = undefined;
    } catch (err) {
      this.failed++;
      this.failures++;
      this.lastError = err instanceof Error ? err.message : String(err);
      next = Math.min(this.o.maxRetryMs ?? 30_000, (this.o.retryMs ?? 500) * 2 ** Math.min(this.failures - 1, 10));
      try {
        this.o.onError?.(err, this.o.outbox.backlog());
      } catch {
        /* a logger failing never stops shipping */
      }
    }
    this.schedule(next);
  }
}
