/**
 * @module trace/retention
 * Trace retention (90 days by default, config `trace.retentionDays`): deletes messages received
 * before a cutoff together with their events, then events older than the cutoff whose message
 * row is gone (orphans). Works in small batches, each its own short write transaction, so cluster
 * workers and the queue writing to the same file are never held off for long.
 * Rows imported from Exchange Online exports (`import_name` set, audit/) are never pruned: an
 * export is often older than the retention, and it goes only with `mailgate audit remove`. The
 * batches walk received_at upwards from the last one, so old imported rows are passed once, not
 * once per batch.
 * Touches: deletes from the trace tables.
 */
import type { Db } from '../core/sqlite.ts';
import { traceReady } from './store.ts';

export const DEFAULT_PRUNE_BATCH = 1000;
const DAY_MS = 86_400_000;

/** The cutoff (ms epoch) for a retention of `days` days counted back from `now`. */
export function retentionCutoff(days: number, now: number): number {
  if (!Number.isFinite(days) || days <= 0) throw new Error(`invalid retention ${String(days)} days: expected a positive number`);
  return now - days * DAY_MS;
}

/**
 * Delete trace rows older than a cutoff: `olderThanMs` is an instant (ms epoch, e.g. from
 * `retentionCutoff(90, now)`); messages with received_at before it go with all their events, and
 * orphan events with `at` before it go too. Returns how many rows of each table were deleted.
 */
export function pruneTrace(
  db: Db,
  olderThanMs: number,
  batchSize: number = DEFAULT_PRUNE_BATCH,
): { messages: number; events: number } {
  if (!Number.isFinite(olderThanMs)) throw new Error(`invalid prune cutoff ${String(olderThanMs)}`);
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new Error(`invalid batch size ${String(batchSize)}`);
  const result = { messages: 0, events: 0 };
  if (!traceReady(db)) return result;

  const pickMessages = db.prepare(
    'SELECT id, received_at AS at FROM trace_message WHERE received_at >= ? AND received_at < ? AND import_name IS NULL ORDER BY received_at LIMIT ?',
  );
  const deleteEventsOf = db.prepare('DELETE FROM trace_event WHERE message_id = ?');
  const deleteMessage = db.prepare('DELETE FROM trace_message WHERE id = ?');
  let from = Number.MIN_SAFE_INTEGER;
  const messageBatch = db.transaction((): number => {
    const rows = pickMessages.all(from, olderThanMs, batchSize) as { id: string; at: number }[];
    for (const { id, at } of rows) {
      result.events += deleteEventsOf.run(id).changes;
      result.messages += deleteMessage.run(id).changes;
      from = at;
    }
    return rows.length;
  });
  while (messageBatch.immediate() === batchSize) {
    /* next batch */
  }

  const deleteOrphans = db.prepare(
    `DELETE FROM trace_event WHERE id IN (
       SELECT e.id FROM trace_event e
       WHERE e.at < ? AND NOT EXISTS (SELECT 1 FROM trace_message m WHERE m.id = e.message_id)
       LIMIT ?)`,
  );
  const orphanBatch = db.transaction((): number => deleteOrphans.run(olderThanMs, batchSize).changes);
  for (;;) {
    const n = orphanBatch.immediate();
    result.events += n;
    if (n < batchSize) break;
  }
  return result;
}
