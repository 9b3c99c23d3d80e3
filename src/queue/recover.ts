/**
 * @module queue/recover
 * Start-up reconciliation of the spool (source of truth) with the queue index, run by the one
 * process that owns the scheduler, before it starts:
 *   0. the commit journal's segments left by a crash are replayed (journal.ts): a missing or torn
 *      file of a message they acknowledged is written back, unless its row is final; then the
 *      delivered-outcome journal (outcome-journal.ts): an attempt the next hop answered that the
 *      store never recorded (row still active, attempt one past the row's) is recorded now, with
 *      its trace events, so step 2 does not send it again; if the store refuses, start-up fails
 *      (closed) rather than deliver twice;
 *   1. spool.scan(): delete tmp/ leftovers (never acknowledged), move corrupt msg/ files aside;
 *   2. store.recoverActive(): rows left active by a crash go back to incoming;
 *   3. every file still to be delivered must match its end record's CRC-32 (else it goes aside:
 *      a torn overwrite of a reused file, see file-pool.ts, and its row is held by step 5);
 *      valid files without a row get one (incoming, or hold if their end record says hold, so a
 *      lost database never releases quarantined mail); with
 *      the trace row and events the end record carries (a receive worker answers 250 before its
 *      registration reaches the owner);
 *   4. files whose row is done/bounced, or deleted (a tombstone, delete.ts), are deleted (the
 *      crash came between commit and unlink);
 *   5. open rows whose file is gone (moved aside as corrupt) go to hold with last_error set, so an
 *      admin sees them instead of the scheduler failing on them forever.
 * Touches: the spool directory and the queue tables (through Spool and QueueStore).
 * RFCs: none.
 */
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { Spool } from './spool.ts';
import { SpoolCorruptError, type SpoolMeta } from './spool-format.ts';
import { canTransition, isFinal } from './states.ts';
import type { QueueStore } from './store.ts';
import { registrationOf, type RowHook } from './register.ts';
import type { TraceSink } from '../trace/events.ts';
import type { OutcomeJournal, OutcomeRecord } from './outcome-journal.ts';
import { outcomeEvents } from './attempt.ts';

/** What recover() did, by count. */
export interface RecoverReport {
  /** Valid spool files found. */
  files: number;
  /** Files moved aside as corrupt. */
  corrupt: number;
  /** Rows reset from active to incoming. */
  resetActive: number;
  /** Rows rebuilt from spool files. */
  rebuilt: number;
  /** Files deleted because their row was already final. */
  removedFinal: number;
  /** Open rows without a valid file, put on hold. */
  missingFiles: number;
  /** Attempts recorded from the delivered-outcome journal. */
  outcomesApplied: number;
}

export interface RecoverDeps {
  spool: Spool;
  store: QueueStore;
  clock: Clock;
  logger: Logger;
  /** Writes what rides with a rebuilt row (the trace row and events its file carries). */
  rowHook?: RowHook | undefined;
  /** The delivered-outcome journal, applied before active rows are re-queued. */
  outcomes?: OutcomeJournal | undefined;
  /** Where the trace events of outcomes applied from the journal go. */
  trace?: TraceSink | undefined;
}

/** Reconcile spool files and queue rows; see the module comment for the steps. */
export async function recoverQueue(deps: RecoverDeps): Promise<RecoverReport> {
  const { spool, store, clock, logger } = deps;
  // Before the scan: files a crash left short of what their journal acknowledged are written back.
  const journal = await spool.replayJournal(store.isFinalRow);
  if (journal.segments > 0 || journal.skipped > 0) logger.info(journal, 'commit journal replayed');
  const outcomesApplied = deps.outcomes ? applyOutcomes(deps.outcomes, store, deps.trace) : 0;
  if (outcomesApplied > 0) logger.warn({ outcomesApplied }, 'delivered-outcome journal: attempts the store had not recorded are recorded now (not delivered again)');
  const scan = await spool.scan();
  const now = clock.now();
  const report: RecoverReport = {
    files: scan.valid.length,
    corrupt: scan.corrupt.length,
    resetActive: store.recoverActive(now),
    rebuilt: 0,
    removedFinal: 0,
    missingFiles: 0,
    outcomesApplied,
  };
  const present = new Set<string>();
  for (const meta of scan.valid) {
    const row = store.get(meta.id);
    // A file to be delivered must hold its message whole: registered from disk (no row), or with
    // a row but never flushed itself (its bytes were durable in the commit journal only, and the
    // replay above could not write them back).
    if ((!row || !isFinal(row.state)) && !(await bodyIntact(spool, meta, logger))) {
      report.corrupt++;
      continue;
    }
    if (!row && store.isDeleted(meta.id)) {
      // Deleted by an admin; the crash came before its unlink (delete.ts): it stays deleted.
      await spool.remove(meta.id);
      report.removedFinal++;
      continue;
    }
    present.add(meta.id);
    if (!row) {
      const hook = deps.rowHook;
      const r = registrationOf(meta);
      try {
        // The queue row and the trace row it carries, in one transaction (as a registration does).
        store.db
          .transaction(() => {
            store.insert(r.stored, r.disposition);
            hook?.(store.db, r);
          })
          .immediate();
      } catch (err) {
        if (!hook) throw err;
        // The trace row could not be written (one already there?): it costs the trace, not the message.
        logger.warn({ queueId: meta.id, err }, 'rebuilt queue row: trace row not written');
        store.insert(r.stored, r.disposition);
      }
      report.rebuilt++;
    } else if (isFinal(row.state)) {
      await spool.remove(meta.id);
      report.removedFinal++;
    }
  }
  report.missingFiles = holdRowsWithoutFiles(store, present, now);
  for (const id of scan.corrupt) logger.warn({ queueId: id }, 'corrupt spool file moved aside');
  logger.info(report, 'queue recovered');
  return report;
}

/**
 * Record every attempt of the journal that is still open in the store: the last record of each
 * (id, attempt) whose row is active with `attempts` one less. Records of attempts the store did
 * record (the row moved on) are skipped. Throws when the store refuses (start-up fails closed).
 */
function applyOutcomes(journal: OutcomeJournal, store: QueueStore, trace: TraceSink | undefined): number {
  const last = new Map<string, OutcomeRecord>();
  for (const r of journal.readAll()) last.set(`${r.id} ${r.attempt}`, r);
  let n = 0;
  for (const r of last.values()) {
    const row = store.get(r.id);
    if (!row || row.state !== 'active' || row.attempts + 1 !== r.attempt) continue;
    store.recordOutcomes(r.id, r.outcomes, r.at, r.next);
    for (const ev of outcomeEvents(r.id, r.outcomes, r.at)) trace?.event(ev);
    n++;
  }
  journal.clear();
  return n;
}

/**
 * A file about to be registered from disk (no row), or to be delivered after a crash, must hold
 * the message its end record describes: an overwrite of a reused file torn by a crash can keep
 * old blocks (file-pool.ts). A file that fails goes aside; a file gone meanwhile (registered,
 * delivered and retired while it was read, in a running gateway) is left alone. Either way:
 * false, do not register it.
 */
export async function bodyIntact(spool: Spool, meta: SpoolMeta, logger?: Logger): Promise<boolean> {
  try {
    await spool.verifyBody(meta);
    return true;
  } catch (err) {
    if (isGone(err)) return false;
    if (!(err instanceof SpoolCorruptError)) throw err;
    try {
      await spool.moveAside(meta.id, err.reason);
    } catch (moveErr) {
      if (isGone(moveErr)) return false;
      throw moveErr;
    }
    logger?.warn({ queueId: meta.id, reason: err.reason }, 'corrupt spool file moved aside');
    return false;
  }
}

const isGone = (err: unknown): boolean => (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

function holdRowsWithoutFiles(store: QueueStore, present: Set<string>, now: number): number {
  let n = 0;
  for (const id of store.openIds()) {
    if (present.has(id)) continue;
    const row = store.get(id);
    if (!row || !canTransition(row.state, 'hold')) continue;
    store.setState(id, 'hold', { now, lastError: 'spool file missing or corrupt (see spool aside/)' });
    n++;
  }
  return n;
}
