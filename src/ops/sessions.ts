/**
 * @module ops/sessions
 * Web console sessions: a login (an API token, or a console user's password) becomes a session
 * whose 32-byte random secret lives only in the browser's HttpOnly cookie; the store keeps its
 * SHA-256 (as ops/tokens does, and for the same reason: a 256-bit secret needs no slow hash).
 * A session lasts at most 8 hours and ends after 1 hour unused; it ends at once when its token
 * is removed or expires, or its user is removed or changes password. Each carries a CSRF token
 * the console sends back in `X-CSRF-Token` on every change (api/auth checks it).
 * Touches: the console_session table of the data directory's SQLite database.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Db, schemaOnce } from '../core/sqlite.ts';

/** A session ends this long after it began, used or not. */
export const SESSION_ABSOLUTE_MS = 8 * 3_600_000;
/** A session ends after this long without a request. */
export const SESSION_IDLE_MS = 3_600_000;
/** Last-seen writes per session are at most this often. */
const TOUCH_MS = 30_000;

export type SessionKind = 'token' | 'user';
/** An admin API scope (ops/tokens' TokenScope; repeated here so tokens.ts may import this file). */
export type TokenScope = 'read' | 'operate' | 'admin';

export interface SessionInfo {
  kind: SessionKind;
  /** The token's or console user's name. */
  subject: string;
  scope: TokenScope;
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS console_session (
  hash         TEXT PRIMARY KEY,
  kind         TEXT NOT NULL,
  subject      TEXT NOT NULL COLLATE NOCASE,
  scope        TEXT NOT NULL,
  csrf         TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
)`;

interface Row {
  hash: string;
  kind: SessionKind;
  subject: string;
  scope: TokenScope;
  csrf: string;
  created_at: number;
  last_seen_at: number;
}

const table = schemaOnce(SCHEMA);

const hashOf = (secret: string): string => createHash('sha256').update(secret, 'utf8').digest('hex');
const info = (r: Row): SessionInfo => ({ kind: r.kind, subject: r.subject, scope: r.scope, csrf: r.csrf, createdAt: r.created_at, lastSeenAt: r.last_seen_at });
const PREFIX = 'mgs_';

/** Start a session; returns its secret (for the cookie, never stored) and its info. */
export function createSession(db: Db, input: { kind: SessionKind; subject: string; scope: TokenScope }, now = Date.now()): { secret: string; session: SessionInfo } {
  table(db).prepare('DELETE FROM console_session WHERE created_at <= ? OR last_seen_at <= ?').run(now - SESSION_ABSOLUTE_MS, now - SESSION_IDLE_MS);
  const secret = PREFIX + randomBytes(32).toString('base64url');
  const row: Row = { hash: hashOf(secret), kind: input.kind, subject: input.subject, scope: input.scope, csrf: randomBytes(24).toString('base64url'), created_at: now, last_seen_at: now };
  db.prepare('INSERT INTO console_session (hash, kind, subject, scope, csrf, created_at, last_seen_at) VALUES (@hash, @kind, @subject, @scope, @csrf, @created_at, @last_seen_at)').run(row);
  return { secret, session: info(row) };
}

/**
 * The live session `secret` names, or undefined (unknown, past 8 h, idle over 1 h). Records use
 * (at most every 30 s). Synchronous: the API's auth hook calls it on every cookie request. Whether
 * its token or user still exists is the caller's check (api/auth), through ops/tokens and
 * ops/console-users.
 */
export function findSession(db: Db, secret: string, now = Date.now(), touch = true): SessionInfo | undefined {
  if (!secret.startsWith(PREFIX) || secret.length > 128) return undefined;
  const hash = hashOf(secret);
  const r = table(db).prepare('SELECT * FROM console_session WHERE hash = ?').get(hash) as Row | undefined;
  if (!r) return undefined;
  if (r.created_at <= now - SESSION_ABSOLUTE_MS || r.last_seen_at <= now - SESSION_IDLE_MS) {
    db.prepare('DELETE FROM console_session WHERE hash = ?').run(hash);
    return undefined;
  }
  // A page refreshing itself (touch false) is not the admin: it must not keep the session alive.
  if (touch && now - r.last_seen_at >= TOUCH_MS) {
    db.prepare('UPDATE console_session SET last_seen_at = ? WHERE hash = ?').run(now, hash);
    r.last_seen_at = now;
  }
  return info(r);
}

/** End the session `secret` names (logout); true when one ended. */
export function endSession(db: Db, secret: string): boolean {
  return table(db).prepare('DELETE FROM console_session WHERE hash = ?').run(hashOf(secret)).changes > 0;
}

/** End every session of a token or user (removed, or a new password). */
export function endSessionsOf(db: Db, kind: SessionKind, subject: string): void {
  table(db).prepare('DELETE FROM console_session WHERE kind = ? AND subject = ?').run(kind, subject);
}
