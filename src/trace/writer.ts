/**
 * @module trace/writer
 * The buffered TraceSink every stage appends to. `message()` and `event()` only push to memory
 * (never touch SQLite on the SMTP reply path); a timer (`flushMs`, unref'ed) or a full buffer
 * (`maxBuffer`, flushed on the next turn of the event loop) writes everything in ONE
 * transaction. While flushing, the connection's busy timeout is lowered to `busyTimeoutMs` so a
 * store held by another process stalls this event loop briefly, not for the store's full 10 s.
 * A batch that fails (a locked store, a full disk) is kept and retried with the next flush, every
 * second while it fails, with whatever arrived meanwhile; at most `maxRetained` records are kept
 * (past that the oldest go, counted in `dropped` and logged), and what is still kept at close()
 * is dropped and counted. A crash may lose the records in memory, never a queued message (the
 * queue writes its RECEIVE row itself, in its own commit).
 * Touches: the trace tables through the given connection; a timer.
 */
import { systemClock, type Clock } from '../core/clock.ts';
import { silentLogger, type Logger } from '../core/log.ts';
import type { Db } from '../core/sqlite.ts';
import type { TraceEvent, TraceMessage, TraceSink } from './events.ts';
import { ensureTraceSchema, insertEventsSync, insertMessageSync } from './store.ts';

export interface TraceWriterOptions {
  /** Longest a record waits in memory (default 200 ms). */
  flushMs?: number;
  /** Records (rows + events) that trigger a flush on the next event-loop turn (default 500). */
  maxBuffer?: number;
  /** Busy timeout while flushing, in ms (default 500); the connection's own is restored after. */
  busyTimeoutMs?: number;
  /** Most records kept for retry while writes fail (default 100,000); the oldest go past it. */
  maxRetained?: number;
  clock?: Clock;
  logger?: Logger;
}

interface Batch {
  messages: TraceMessage[];
  events: TraceEvent[];
}

const size = (b: Batch): number => b.messages.length + b.events.length;

/** While writes fail, how often the kept records are tried again. */
const RETRY_MS = 1000;

export class TraceWriter implements TraceSink {
  /** Records given up on: past maxRetained while writes fail, still unwritten at close(), or appended after close(). */
  dropped = 0;
  /** Flushes that failed (their records kept for retry). */
  failures = 0;
  /** Transactions committed (one per successful batch). */
  flushes = 0;
  /** Records committed. */
  written = 0;

  readonly #db: Db;
  readonly #flushMs: number;
  readonly #maxBuffer: number;
  readonly #busyMs: number;
  readonly #maxRetained: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  #buffer: Batch = { messages: [], events: [] };
  #retry: Batch | undefined;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #closed = false;

  constructor(db: Db, opts: TraceWriterOptions = {}) {
    this.#db = db;
    this.#flushMs = opts.flushMs ?? 200;
    this.#maxBuffer = opts.maxBuffer ?? 500;
    this.#busyMs = opts.busyTimeoutMs ?? 500;
    this.#maxRetained = opts.maxRetained ?? 100_000;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
    if (!(this.#flushMs > 0) || !(this.#maxBuffer > 0)) throw new RangeError('flushMs and maxBuffer must be positive');
    ensureTraceSchema(db);
  }

  /** Records waiting in memory (including a batch awaiting its retry). */
  get pending(): number {
    return size(this.#buffer) + (this.#retry ? size(this.#retry) : 0);
  }

  message(row: TraceMessage): void {
    if (this.#accepting()) {
      this.#buffer.messages.push(row);
      this.#scheduled();
    }
  }

  event(ev: TraceEvent): void {
    if (this.#accepting()) {
      this.#buffer.events.push(ev);
      this.#scheduled();
    }
  }

  /**
   * Write what is buffered now, after what failed before, in one transaction; if it fails, all of
   * it is kept (bounded) for the next flush. Never throws.
   */
  flush(): void {
    this.#cancelTimers();
    const b = this.#retry ? { messages: this.#retry.messages.concat(this.#buffer.messages), events: this.#retry.events.concat(this.#buffer.events) } : this.#buffer;
    this.#retry = undefined;
    this.#buffer = { messages: [], events: [] };
    if (size(b) === 0) return;
    if (!this.#write(b)) {
      this.failures += 1;
      this.#retry = this.#bounded(b);
      this.#log.warn({ kept: size(this.#retry), dropped: this.dropped, failures: this.failures }, 'trace records kept for retry');
    }
    if (this.#retry && !this.#closed) this.#arm(RETRY_MS);
  }

  /** Flush and stop accepting records; what still cannot be written is dropped and counted. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    if (this.#retry) {
      this.dropped += size(this.#retry);
      this.#log.error({ dropped: size(this.#retry), total: this.dropped }, 'trace records not written at close');
      this.#retry = undefined;
    }
    this.#cancelTimers();
  }

  /** `b`, or its newest maxRetained records (the oldest events go first, then the oldest rows). */
  #bounded(b: Batch): Batch {
    const over = size(b) - this.#maxRetained;
    if (over <= 0) return b;
    const fromEvents = Math.min(over, b.events.length);
    this.dropped += over;
    this.#log.error({ dropped: over, total: this.dropped }, 'trace records dropped: too many kept while writes fail');
    return { messages: b.messages.slice(over - fromEvents), events: b.events.slice(fromEvents) };
  }

  #accepting(): boolean {
    if (!this.#closed) return true;
    this.dropped += 1;
    return false;
  }

  #scheduled(): void {
    if (size(this.#buffer) >= this.#maxBuffer) {
      if (!this.#immediate) {
        this.#immediate = setImmediate(() => {
          this.#immediate = undefined;
          this.flush();
        });
        this.#immediate.unref();
      }
      return;
    }
    this.#arm();
  }

  #arm(ms = this.#flushMs): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush();
    }, Math.max(ms, this.#flushMs));
    this.#timer.unref();
  }

  #cancelTimers(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#immediate) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  /** One immediate transaction for the whole batch; false (logged) on any error. */
  #write(b: Batch): boolean {
    const db = this.#db;
    const saved = db.pragma('busy_timeout', { simple: true }) as number;
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(this.#busyMs))}`);
      const now = this.#clock.now();
      db.transaction(() => {
        for (const m of b.messages) insertMessageSync(db, m, now);
        insertEventsSync(db, b.events, now);
      }).immediate();
      this.flushes += 1;
      this.written += size(b);
      return true;
    } catch (err) {
      this.#log.warn({ err, records: size(b) }, 'trace flush failed');
      return false;
    } finally {
      try {
        db.pragma(`busy_timeout = ${Math.floor(saved)}`);
      } catch {
        // the connection is closed or broken; nothing to restore
      }
    }
  }
}
