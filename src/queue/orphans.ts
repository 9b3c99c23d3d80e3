/**
 * @module queue/orphans
 * The queue owner's periodic orphan scan: a valid spool file in msg/ without a queue row, unchanged
 * for `minAgeMs` (5 min, by its ctime), is an acknowledged message whose registration never
 * arrived (a receive worker answers 250 once the file is durable and registers it in the
 * background: accept.ts) — it is
 * registered from its own end record (queue row, trace row and events in one transaction; its
 * bytes first checked against the end record's CRC-32, see recover.ts bodyIntact), so it
 * is delivered without waiting for the next restart. Files still being written or damaged (no valid
 * end record) are left alone: start-up recovery deals with those. A file whose message reached a
 * final state keeps its row until the file is gone (prune.ts), so a delivered message is never
 * registered again. Runs only in the owner, the one SQLite writer.
 * Touches: the spool directory (reads it; a torn file goes aside) and the queue tables (through
 * the registrar).
 * RFCs: RFC 5321 §6.1 (the 250 took responsibility for the message).
 */
import type { Logger } from '../core/log.ts';
import { bodyIntact } from './recover.ts';
import { registrationOf, type Registrar } from './register.ts';
import type { Spool } from './spool.ts';
import type { QueueStore } from './store.ts';

export interface OrphanDeps {
  spool: Spool;
  store: QueueStore;
  /** The owner's registrar (queue row + trace row + events in one transaction). */
  register: Registrar;
  now: () => number;
  /**
   * Files younger than this are left to the registration in flight (default 5 min: well past the
   * IPC ack timeout of a registration, daemon/ipc.ts ACK_TIMEOUT_MS = 60 s).
   */
  minAgeMs?: number;
  logger?: Logger | undefined;
}

/** Ids looked up in the queue table between two yields of the event loop. */
const BATCH = 500;

/** Register every orphaned spool file; returns how many were registered. */
export async function registerOrphans(deps: OrphanDeps): Promise<number> {
  const { spool, store } = deps;
  const before = deps.now() - (deps.minAgeMs ?? 300_000);
  const ids = await spool.ids();
  let n = 0;
  for (let i = 0; i < ids.length; i++) {
    // A large queue is thousands of lookups: let the owner's other work run between batches.
    if (i > 0 && i % BATCH === 0) await new Promise((r) => setImmediate(r));
    const id = ids[i] as string;
    if (store.get(id)) continue;
    if (store.isDeleted(id)) {
      // Deleted by an admin (delete.ts) before its unlink: never registered again.
      await spool.remove(id).catch(() => undefined);
      continue;
    }
    // Its ctime: a file renamed in from free/ and being written looks new (file-pool.ts).
    const changed = await spool.modifiedAt(id);
    if (changed === undefined || changed > before) continue;
    let meta;
    try {
      meta = await spool.readMeta(id);
    } catch {
      continue; // no valid end record: being written, or damaged (start-up recovery moves it aside)
    }
    if (store.get(id)) continue; // its registration arrived meanwhile
    if (!(await bodyIntact(spool, meta, deps.logger))) continue; // torn: moved aside
    if (store.get(id)) continue;
    try {
      await deps.register(registrationOf(meta));
      n++;
      deps.logger?.warn({ queueId: id }, 'acknowledged message without a queue row registered from its spool file');
    } catch (err) {
      deps.logger?.error({ queueId: id, err }, 'orphaned spool file could not be registered');
    }
  }
  return n;
}
