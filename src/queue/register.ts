/**
 * @module queue/register
 * Registration: the step of accept() after the spool file is durable — its queue row (and what
 * rides with it: the trace row, the RECEIVE event) committed in one SQLite transaction.
 * `localRegistrar` does it in this process through a RowBatcher (group commit: every message that
 * registers in the same event-loop turn shares one IMMEDIATE transaction, each in its own
 * savepoint). The daemon gives receive workers a registrar that sends the same Registration to
 * the queue owner over IPC instead, so exactly one process writes the queue tables. In the queue
 * owner, a new row can go straight into delivery (`Admission`: inserted as active, no claim).
 * Touches: the SQLite database (queue tables, plus whatever the row hook writes).
 * RFCs: none.
 */
import type { Db } from '../core/sqlite.ts';
import type { TraceEvent, TraceMessage } from '../trace/events.ts';
import type { Disposition } from './contract.ts';
import type { SpoolMeta } from './spool-format.ts';
import type { QueueRow, QueueStore } from './store.ts';
import { RowBatcher } from './row-batch.ts';

/** Plain data (it crosses process boundaries): one committed spool file to register. */
export interface Registration {
  stored: SpoolMeta;
  disposition: Disposition;
  /** The message's trace row, written in the same transaction as the queue row. */
  trace?: TraceMessage | undefined;
  /** Trace events written in the same transaction (RECEIVE, QUARANTINE). */
  events?: TraceEvent[] | undefined;
}

/**
 * The registration a committed spool file carries in its end record (queue row, and the trace row
 * and events written with it): what accept() sends, and what recovery and the orphan scan commit
 * when that never arrived. `stored` is the meta without the carried copy (the queue row and an IPC
 * message need not hold the trace row twice) and the file's CRC; the trace row's size defaults
 * to the message's.
 */
export function registrationOf(meta: SpoolMeta): Registration {
  // The CRC is the file's own check (file-pool.ts): it stays in the file, not in the row.
  const { registration: r, crc32: _fileCheck, ...stored } = meta;
  const trace = r?.trace ? { ...r.trace, size: r.trace.size ?? meta.size } : undefined;
  return { stored, disposition: meta.disposition, ...(trace ? { trace } : {}), ...(r?.events?.length ? { events: r.events } : {}) };
}

/** Resolves once the registration's transaction committed; rejects if it did not. */
export type Registrar = (r: Registration) => Promise<void>;

/** Writes what rides with a queue row, inside its transaction; throwing rolls the row back. */
export type RowHook = (db: Db, r: Registration) => void;

/**
 * The queue owner's scheduler, taking a new row straight into delivery: the row is inserted as
 * active and handed over once committed, instead of inserted as incoming and claimed back by a
 * query and an update in a transaction of their own (scheduler.ts).
 */
export interface Admission {
  /** Reserve a delivery slot for a row about to be registered; false: register it as incoming. */
  reserve(): boolean;
  /** The row reserved for is committed as active: deliver it (the reserved slot is its). */
  admit(row: QueueRow): void;
  /** The row reserved for was not committed: the slot goes back. */
  release(): void;
  /** A row to deliver was committed as incoming (no slot given): a claim should look. */
  queued(): void;
}

/**
 * A registrar writing into this process's database, group-committed per event-loop turn. With
 * `admission` (the queue owner's scheduler, once it runs), a message to deliver goes straight into
 * delivery when the scheduler gives it a slot (see Scheduler.reserve). Once the row is committed
 * the registration resolves, whatever happens to the hand-over: a rejection would have the
 * caller move aside the file of a queued message.
 */
export function localRegistrar(store: QueueStore, hook?: RowHook, admission?: () => Admission | undefined): Registrar {
  const rows = RowBatcher.for(store.db);
  return (r) => {
    // Decided once, outside the entry: a batch that fails runs its entries a second time.
    const to = r.disposition === 'deliver' ? admission?.() : undefined;
    const active = to?.reserve() === true;
    let row: QueueRow | undefined;
    const committed = rows.register(() => {
      row = store.insert(r.stored, r.disposition, active);
      hook?.(store.db, r);
    });
    if (!to) return committed;
    if (!active) return committed.then(() => handOver(() => to.queued()));
    return committed.then(
      // The row the committed entry inserted (a batch that failed ran it again, with the same values).
      () => handOver(() => to.admit(row as QueueRow)),
      (err: unknown) => {
        to.release();
        throw err;
      },
    );
  };
}

/**
 * After the commit: never throws (the row is queued; recovery turns a row left active back to
 * incoming at the next start). Admission's own methods do not throw; this is the backstop.
 */
function handOver(fn: () => void): void {
  try {
    fn();
  } catch {
    // Nothing to undo here: the row is committed and a claim or the next start picks it up.
  }
}
