/**
 * @module queue/row-batch
 * Group commit for queue rows. Every message whose spool file became durable in the same turn of
 * the event loop is registered in ONE IMMEDIATE SQLite transaction instead of one each: one write
 * lock taken per batch, one commit. The batch first runs without a savepoint per entry; if an
 * entry throws, the transaction is rolled back and the batch runs again with each entry in its own
 * savepoint (better-sqlite3 nests transactions as savepoints), so only the entry that failed is
 * refused; if BEGIN or COMMIT fails, every caller of the batch is refused. A caller's promise
 * resolves only after the transaction holding its row committed, so accept()'s contract (row
 * committed before the 250) is unchanged.
 * One batcher per connection (`RowBatcher.for`): the queue owner's registrations and delivery
 * outcomes of a turn share its transaction, so the pages both touch (the queue table and its
 * indexes, the recipients) are written to the WAL once per turn, not once per kind: measured at
 * load A, fewer WAL writes and file-lock calls per message (bench/README.md, session 6). An entry
 * that throws is still refused alone, whichever writer it came from; a BEGIN or COMMIT that fails
 * (a busy or failing disk) refuses every entry of the turn, registrations and outcomes alike (the
 * scheduler retries an outcome; a registration that waits for its row answers 451).
 * Touches: the SQLite database given (through the callbacks of each entry).
 * RFCs: none.
 */
import type Database from 'better-sqlite3';
import type { Db } from '../core/sqlite.ts';

interface Entry {
  run: () => void;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const perConnection = new WeakMap<Db, RowBatcher>();

/** Batches row registrations that arrive in the same event-loop turn into one transaction. */
export class RowBatcher {
  /** The batcher every writer of this connection shares (one transaction per turn for all). */
  static for(db: Db): RowBatcher {
    let b = perConnection.get(db);
    if (!b) {
      b = new RowBatcher(db);
      perConnection.set(db, b);
    }
    return b;
  }

  private pending: Entry[] = [];
  private scheduled = false;
  /** Transactions committed (tests and metrics check the coalescing with it). */
  commits = 0;

  constructor(
    private readonly db: Db,
    /** Most entries in one transaction (a bound on how long one commit holds the write lock). */
    private readonly maxBatch = 256,
  ) {
    this.all = db.transaction((batch: Entry[]) => {
      for (const e of batch) {
        try {
          e.run();
        } catch (err) {
          throw new EntryFailed(err);
        }
      }
    });
    this.savepoint = db.transaction((e: Entry) => e.run());
  }

  /** The whole batch in one transaction (built once). */
  private readonly all: Database.Transaction<(batch: Entry[]) => void>;
  /** One entry; nested inside a transaction it is a savepoint. */
  private readonly savepoint: Database.Transaction<(e: Entry) => void>;

  /** Run `fn` inside the next batch transaction; resolves once that transaction committed. */
  register(fn: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ run: fn, resolve, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commit what is pending now (normally called from setImmediate). */
  flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    // Fast path: every entry in one transaction, no savepoint each. If one entry throws, the
    // whole transaction is rolled back and the batch is run again with a savepoint per entry,
    // so only the entry that failed is refused.
    try {
      this.all.immediate(batch);
      this.commits++;
    } catch (err) {
      if (!(err instanceof EntryFailed)) {
        for (const e of batch) e.reject(err);
        return;
      }
      this.flushOneByOne(batch);
      return;
    }
    for (const e of batch) e.resolve();
  }

  /** The slow path: one savepoint per entry inside one transaction. */
  private flushOneByOne(batch: Entry[]): void {
    const failed = new Map<Entry, unknown>();
    try {
      this.db
        .transaction(() => {
          for (const e of batch) {
            try {
              this.savepoint(e); // nested: a savepoint, so a throw rolls back this entry only
            } catch (err) {
              failed.set(e, err);
            }
          }
        })
        .immediate(); // IMMEDIATE: take the write lock up front, so the busy timeout applies
      this.commits++;
    } catch (err) {
      for (const e of batch) e.reject(err);
      return;
    }
    for (const e of batch) {
      if (failed.has(e)) e.reject(failed.get(e));
      else e.resolve();
    }
  }
}

/** An entry threw inside the fast-path transaction (as opposed to BEGIN or COMMIT failing). */
class EntryFailed extends Error {
  constructor(cause: unknown) {
    super('a batch entry failed', { cause });
  }
}
