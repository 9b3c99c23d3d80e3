/**
 * @module queue/store-sql
 * The SQL of the queue index: schema (queue_message, queue_rcpt, the (state, next_attempt) index)
 * and queue_tombstone (ids deleted by an admin, see delete.ts), and every prepared statement QueueStore uses, kept apart so store.ts reads as domain logic.
 * Times are integer milliseconds since the epoch.
 * Touches: the SQLite database (prepares statements; executes only the schema).
 * RFCs: none.
 */
import type { Db } from '../core/sqlite.ts';
import type BetterSqlite3 from 'better-sqlite3';

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS queue_message (
  id           TEXT PRIMARY KEY,
  state        TEXT NOT NULL CHECK (state IN ('incoming','active','deferred','hold','done','bounced')),
  received_at  INTEGER NOT NULL,
  next_attempt INTEGER NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 0,
  mail_from    TEXT NOT NULL,
  size         INTEGER NOT NULL,
  meta_json    TEXT NOT NULL,
  last_error   TEXT,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_message_due ON queue_message (state, next_attempt);
CREATE INDEX IF NOT EXISTS queue_message_received ON queue_message (received_at);
CREATE TABLE IF NOT EXISTS queue_rcpt (
  queue_id   TEXT NOT NULL REFERENCES queue_message (id) ON DELETE CASCADE,
  rcpt       TEXT NOT NULL,
  status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','delivered','deferred','failed')),
  last_reply TEXT,
  PRIMARY KEY (queue_id, rcpt)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue_tombstone (
  id         TEXT PRIMARY KEY,
  deleted_at INTEGER NOT NULL
) WITHOUT ROWID;
`;

type Stmt = BetterSqlite3.Statement;

/** Every prepared statement of the store, by name. */
export interface Statements {
  insertMessage: Stmt;
  insertRcpt: Stmt;
  get: Stmt;
  has: Stmt;
  stateOf: Stmt;
  listAll: Stmt;
  listState: Stmt;
  rcpts: Stmt;
  due: Stmt;
  setState: Stmt;
  setStateFull: Stmt;
  updateRcpt: Stmt;
  rcptCounts: Stmt;
  finishAttempt: Stmt;
  recoverActive: Stmt;
  flushDeferred: Stmt;
  openIds: Stmt;
  countByState: Stmt;
  deleteRcpts: Stmt;
  deleteMessage: Stmt;
  finalIdsBefore: Stmt;
  insertTombstone: Stmt;
  isTombstone: Stmt;
  pruneTombstones: Stmt;
  setMeta: Stmt;
  markRcpt: Stmt;
  rcptsWithReply: Stmt;
  oldestOpen: Stmt;
}

/** Prepare the store's statements once. */
export function prepareStatements(db: Db): Statements {
  const p = (sql: string): Stmt => db.prepare(sql);
  return {
    insertMessage: p(`INSERT INTO queue_message
      (id, state, received_at, next_attempt, attempts, mail_from, size, meta_json, last_error, updated_at)
      VALUES (@id, @state, @received_at, @next_attempt, 0, @mail_from, @size, @meta_json, NULL, @updated_at)`),
    insertRcpt: p(`INSERT OR IGNORE INTO queue_rcpt (queue_id, rcpt, status) VALUES (?, ?, 'pending')`),
    get: p(`SELECT * FROM queue_message WHERE id = ?`),
    has: p(`SELECT 1 FROM queue_message WHERE id = ?`),
    stateOf: p(`SELECT state, last_error FROM queue_message WHERE id = ?`),
    listAll: p(`SELECT * FROM queue_message ORDER BY received_at, id LIMIT ?`),
    listState: p(`SELECT * FROM queue_message WHERE state = ? ORDER BY received_at, id LIMIT ?`),
    rcpts: p(`SELECT * FROM queue_rcpt WHERE queue_id = ? ORDER BY rcpt`),
    // One state at a time: the (state, next_attempt) index then yields rows in order and the
    // query stops at LIMIT, however long the queue (IN (...) would sort every due row).
    due: p(`SELECT * FROM queue_message WHERE state = ? AND next_attempt <= ? ORDER BY next_attempt LIMIT ?`),
    setState: p(`UPDATE queue_message SET state = ?, updated_at = ? WHERE id = ?`),
    setStateFull: p(`UPDATE queue_message SET state = ?, next_attempt = ?, last_error = ?, updated_at = ? WHERE id = ?`),
    updateRcpt: p(`UPDATE queue_rcpt SET status = ?, last_reply = ?
      WHERE queue_id = ? AND rcpt = ? AND status IN ('pending','deferred')`),
    rcptCounts: p(`SELECT SUM(status IN ('pending','deferred')) AS open, SUM(status = 'failed') AS failed
      FROM queue_rcpt WHERE queue_id = ?`),
    finishAttempt: p(`UPDATE queue_message SET state = ?, attempts = attempts + 1, next_attempt = ?,
      last_error = ?, updated_at = ? WHERE id = ?`),
    recoverActive: p(`UPDATE queue_message SET state = 'incoming', next_attempt = MIN(next_attempt, ?), updated_at = ?
      WHERE state = 'active'`),
    flushDeferred: p(`UPDATE queue_message SET next_attempt = ?, updated_at = ? WHERE state = 'deferred'`),
    openIds: p(`SELECT id FROM queue_message WHERE state NOT IN ('done','bounced') ORDER BY id`),
    countByState: p(`SELECT state, COUNT(*) AS n FROM queue_message GROUP BY state`),
    deleteRcpts: p(`DELETE FROM queue_rcpt WHERE queue_id = ?`),
    deleteMessage: p(`DELETE FROM queue_message WHERE id = ?`),
    finalIdsBefore: p(`SELECT id FROM queue_message WHERE id > ? AND state IN ('done','bounced') AND updated_at < ?
      ORDER BY id LIMIT ?`),
    insertTombstone: p(`INSERT OR REPLACE INTO queue_tombstone (id, deleted_at) VALUES (?, ?)`),
    isTombstone: p(`SELECT 1 FROM queue_tombstone WHERE id = ?`),
    pruneTombstones: p(`DELETE FROM queue_tombstone WHERE deleted_at < ?`),
    setMeta: p(`UPDATE queue_message SET meta_json = ?, updated_at = ? WHERE id = ?`),
    markRcpt: p(`UPDATE queue_rcpt SET status = ?, last_reply = ? WHERE queue_id = ? AND rcpt = ? AND status = ? AND COALESCE(last_reply, '') = ?`),
    rcptsWithReply: p(`SELECT * FROM queue_rcpt WHERE last_reply LIKE ? ESCAPE '\\' ORDER BY queue_id, rcpt LIMIT ?`),
    oldestOpen: p(`SELECT MIN(received_at) AS t FROM queue_message WHERE state NOT IN ('done','bounced')`),
  };
}
