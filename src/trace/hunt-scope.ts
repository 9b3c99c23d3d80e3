/**
 * @module trace/hunt-scope
 * What a hunt (`mailgate report hunt`) may read: the trace tables and nothing else — not the
 * configuration versions (which hold the users' scrypt hashes), the queue, or the audit imports.
 * SQLite has no per-table permission and better-sqlite3 exposes no authorizer, so the prepared
 * statement's own bytecode is inspected (`EXPLAIN`): every b-tree it opens (OpenRead / ReopenIdx
 * with its root page) must belong to a trace table or one of its indexes, in the main database.
 * Views and CTEs are expanded by SQLite before this, so reading through them is seen too; the
 * schema table itself (root page 1) is not a trace table. Eponymous virtual tables (json_each,
 * json_tree, pragma_* table functions, dbstat) stay allowed: they read no row of another table.
 * Touches: the read-only hunt connection it is given (EXPLAIN and sqlite_schema only).
 */
import type { Db } from '../core/sqlite.ts';

/** The tables a hunt may read (and their indexes). */
export const HUNT_TABLES: readonly string[] = Object.freeze(['trace_message', 'trace_event']);

/** Opcodes that open a b-tree cursor with its root page in P2 and its database in P3. */
const OPENS = new Set(['OpenRead', 'OpenWrite', 'ReopenIdx']);

interface ExplainRow {
  opcode: string;
  p2: number;
  p3: number;
}

/** The table each root page of the main database belongs to (an index maps to its table). */
function rootPages(db: Db): Map<number, string> {
  const rows = db.prepare("SELECT rootpage, tbl_name FROM sqlite_schema WHERE type IN ('table', 'index') AND rootpage > 0").all() as Array<{ rootpage: number; tbl_name: string }>;
  return new Map(rows.map((r) => [r.rootpage, r.tbl_name]));
}

/**
 * The reason `sql` may not run as a hunt (it reads something other than the trace tables), or
 * undefined. `sql` must already have passed the statement guards (a single read-only SELECT).
 */
export function huntScopeProblem(db: Db, sql: string): string | undefined {
  const program = db.prepare(`EXPLAIN ${sql}`).all() as ExplainRow[];
  const pages = rootPages(db);
  for (const op of program) {
    if (!OPENS.has(op.opcode)) continue;
    if (op.p3 !== 0) return 'query refused: hunts read only the trace tables of the main database';
    const table = op.p2 === 1 ? 'sqlite_schema' : (pages.get(op.p2) ?? `root page ${op.p2}`);
    if (!HUNT_TABLES.includes(table)) return `query refused: hunts read only the trace (${HUNT_TABLES.join(', ')}), not ${table}`;
  }
  return undefined;
}
