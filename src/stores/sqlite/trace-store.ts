/**
 * @module stores/sqlite/trace-store
 * The TraceStore interface (trace/trace-store.ts) over one node's SQLite file: the embedded
 * default. Writes run in one immediate transaction through trace/store's upserts, retention through
 * trace/retention: the write path stays in trace/ because the queue commits trace rows in its own
 * SQLite transaction (queue/ may not import stores/). The reads are this folder's: searches
 * (trace-search), report rows (trace-reports, trace-dashboard), replay facts (trace-replay-facts);
 * hunts run trace/hunt's guarded child process on the file. The node name is not stored: a SQLite
 * trace is one node's. Event `seq` is not stored either (SQLite's own rowid orders events).
 * Touches: the trace tables of the given database.
 */
import type { Db } from '../../core/sqlite.ts';
import { insertEventsSync, insertMessageSync, pruneTrace, traceReady, type TraceBatch, type TraceStore } from '../../trace/index.ts';
import { runHunt, SAVED_HUNTS } from '../../trace/hunt.ts';
import { rowCountSync, sqliteReportRows } from './trace-reports.ts';
import { replayFactGroupsSync } from './trace-replay-facts.ts';
import { getTrace, searchTrace } from './trace-search.ts';

/** A TraceStore over `db`; close() closes the handle only when `owned` (ops/ contexts share the node's handle: not owned). */
export function sqliteTraceStore(db: Db, opts: { owned?: boolean } = {}): TraceStore {
  const rows = sqliteReportRows(db);
  const write = db.transaction((b: TraceBatch): void => {
    for (const m of b.messages) insertMessageSync(db, m);
    insertEventsSync(db, b.events);
  });
  return {
    kind: 'sqlite',
    write: async (b) => {
      write.immediate(b);
    },
    search: async (filter = {}) => searchTrace(db, filter),
    show: async (id) => getTrace(db, id),
    prune: async (cutoff) => pruneTrace(db, cutoff),
    removeImport: async (name) => {
      if (!traceReady(db)) return 0;
      return db.transaction(() => {
        db.prepare('DELETE FROM trace_event WHERE message_id IN (SELECT id FROM trace_message WHERE import_name = ?)').run(name);
        return db.prepare('DELETE FROM trace_message WHERE import_name = ?').run(name).changes;
      }).immediate();
    },
    ...rows,
    // In a child process on its own read-only connection to the file (trace/hunt), once the tables exist.
    hunt: async (sql, o) => {
      traceReady(db);
      return runHunt(db.name, sql, o);
    },
    close: async () => {
      if (opts.owned) db.close();
    },
    replayFacts: (scope, o) => ({
      [Symbol.asyncIterator]: async function* () {
        // No statement is open between groups (keyset pages), so groups go out as they are made.
        yield* replayFactGroupsSync(db, scope, o);
      },
    }),
    rowCount: async (scope) => rowCountSync(db, scope),
    savedHuntText: (name) => (Object.hasOwn(SAVED_HUNTS, name) ? SAVED_HUNTS[name]?.sql : undefined),
  };
}
