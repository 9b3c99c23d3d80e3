/**
 * @module queue/delete
 * Deleting a message for good (`queue delete`, `quarantine delete`): its row leaves the index and
 * a tombstone takes its place in the same transaction, then its spool file is unlinked. Recovery
 * and the orphan scan never restore or register a tombstoned id (recover.ts, orphans.ts,
 * journal-replay.ts through isFinalRow), so one guarantee holds: once delete returns, no crash
 * brings the message back — not the commit journal's replay of a segment not yet settled, not a
 * file whose unlink the crash prevented. Tombstones leave with final rows (prune.ts).
 * Touches: the queue tables (through QueueStore) and the spool's msg/ directory.
 * RFCs: none.
 */
import type { Spool } from './spool.ts';
import type { QueueState } from './states.ts';
import type { QueueStore } from './store.ts';

/**
 * Delete `id` if its state is one of `from` (default every state but active: an attempt in flight
 * ends first). Returns false when there was no row; throws UnexpectedStateError for another state.
 */
export async function deleteQueued(store: QueueStore, spool: Spool, id: string, from: readonly QueueState[] = ['incoming', 'deferred', 'hold', 'done', 'bounced']): Promise<boolean> {
  if (!store.delete(id, { from })) return false;
  await spool.remove(id);
  return true;
}
