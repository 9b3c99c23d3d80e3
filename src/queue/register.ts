/**
 * @module queue/register
 * Registration: the step of accept() after the spool file is durable — its queue row (and what
 * rides with it: the trace row, the RECEIVE event) committed in one SQLite transaction.
 * `localRegistrar` does it in this process through a RowBatcher (group commit: every message that
 * registers in the same event-loop turn shares one IMMEDIATE transaction, each in its own
 * savepoint). The daemon gives receive workers a registrar that sends the same Registration to
 * the queue owner over IPC instead, so exactly one process writes the queue tables.
 * Touches: the SQLite database (queue tables, plus whatever the row hook writes).
 * RFCs: none.
 */
import type { Db } from '../core/sqlite.ts';
import type { TraceEvent, TraceMessage } from '../trace/events.ts';
import type { Disposition } from './contract.ts';
import type { SpoolMeta } from './spool-format.ts';
import type { QueueStore } from './store.ts';
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

/** A registrar writing into this process's database, group-committed per event-loop turn. */
export function localRegistrar(store: QueueStore, hook?: RowHook): Registrar {
  const rows = RowBatcher.for(store.db);
  return (r) =>
    rows.register(() => {
      store.insert(r.stored, r.disposition);
      hook?.(store.db, r);
    });
}
