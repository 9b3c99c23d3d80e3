/**
 * @module queue/prune
 * Keeps the queue index from growing with every message ever sent: done and bounced rows leave
 * it once their last update is older than the cutoff (their history stays in the trace). A row
 * leaves only once its spool file is gone — the unlink after the final attempt is retried here
 * (Spool.remove), and a file that still cannot be removed keeps its row, because recovery deletes
 * the file of a final row but would deliver again a file that has no row. Pages of `pageSize` rows, one
 * transaction each; every unlink is asynchronous, so a large backlog (the first run after an
 * upgrade) never stalls the SMTP replies and acks the queue owner also serves.
 * Touches: the queue tables and the spool's msg/ directory.
 * RFCs: none.
 */
import type { Spool } from './spool.ts';
import type { QueueStore } from './store.ts';

/** Remove done/bounced rows last updated before `before`; resolves with how many went. */
export async function pruneFinalRows(store: QueueStore, spool: Spool, before: number, pageSize = 1000): Promise<number> {
  let after = '';
  let total = 0;
  for (;;) {
    const ids = store.finalIdsBefore(before, after, pageSize);
    if (ids.length === 0) {
      // Tombstones of deleted messages go with them: by then every journal segment is settled.
      store.pruneTombstones(before);
      return total;
    }
    after = ids[ids.length - 1] ?? after;
    const gone: string[] = [];
    for (const id of ids) {
      // Spool.remove: a missing file is fine, any other failure keeps the row.
      if (await spool.remove(id).then(() => true, () => false)) gone.push(id);
    }
    total += store.deleteRows(gone);
  }
}
