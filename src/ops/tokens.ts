/**
 * @module ops/tokens
 * Admin API bearer tokens: `add` makes a 32-byte random secret, returns it once and keeps only its
 * SHA-256; `list` shows name, scope, created, last used and expiry (never the secret or its
 * hash); `remove` revokes; `verify` finds the token a presented secret belongs to.
 * Why SHA-256 and not scrypt: scrypt exists to slow the guessing of low-entropy passwords; a
 * 256-bit random secret cannot be guessed whatever the hash, and a fast hash lets every API
 * request be checked without spending 50 ms of CPU (and without handing a flood a CPU lever).
 * The lookup is by hash (a unique index), so no secret-dependent comparison runs in JavaScript.
 * Last use is written at most once a minute per token, so a busy client costs no write per request.
 * The table is created when first used (CREATE TABLE IF NOT EXISTS, as every store here does); it
 * changes nothing an older mailgate reads, so it needs no data-version step.
 * Touches: the api_token table of the data directory's SQLite database; deletes the first-login
 * token's file when that token is removed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { type Db, schemaOnce } from '../core/sqlite.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { endSessionsOf } from './sessions.ts';

export type TokenScope = 'read' | 'operate' | 'admin';
export const TOKEN_SCOPES: readonly TokenScope[] = ['read', 'operate', 'admin'];

/** A token as listed: everything but the secret. Times are epoch milliseconds. */
export interface TokenInfo {
  name: string;
  scope: TokenScope;
  createdAt: number;
  createdBy: string;
  lastUsedAt: number | null;
  expiresAt: number | null;
}

/** What `add` returns: the token and its secret, shown this once. */
export interface NewToken extends TokenInfo {
  secret: string;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS api_token (
  name         TEXT PRIMARY KEY COLLATE NOCASE,
  scope        TEXT NOT NULL,
  hash         TEXT NOT NULL UNIQUE,
  created_at   INTEGER NOT NULL,
  created_by   TEXT NOT NULL,
  last_used_at INTEGER,
  expires_at   INTEGER
)`;

/** The admin token `serve` makes on first run for the web console (ops/console-login), and the file holding its secret. */
export const FIRST_LOGIN_TOKEN = 'console-first-login';
export const FIRST_LOGIN_FILE = 'console-first-login.token';

/** Where the first-login token's secret is written in data directory `dir`. */
export function firstLoginPath(dir: string): string {
  return join(dir, FIRST_LOGIN_FILE);
}

/** Secrets carry a prefix so a leaked one is recognisable (secret scanners, logs). */
const PREFIX = 'mgt_';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** Last-used writes per token are at most this often. */
const TOUCH_MS = 60_000;

interface Row {
  name: string;
  scope: TokenScope;
  hash: string;
  created_at: number;
  created_by: string;
  last_used_at: number | null;
  expires_at: number | null;
}

const table = schemaOnce(SCHEMA);

function hashOf(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

function info(r: Row): TokenInfo {
  return { name: r.name, scope: r.scope, createdAt: r.created_at, createdBy: r.created_by, lastUsedAt: r.last_used_at, expiresAt: r.expires_at };
}

/** Create token `name` with `scope`, expiring at `expiresAt` (epoch ms) if given. */
export async function addToken(ctx: OpsContext, input: { name: string; scope: TokenScope; expiresAt?: number; now?: number }): Promise<NewToken> {
  if (!NAME.test(input.name)) throw new OpsError('invalid', `token name "${input.name}": letters, digits and . _ @ - (at most 64)`);
  if (!TOKEN_SCOPES.includes(input.scope)) throw new OpsError('invalid', `token scope "${String(input.scope)}": one of ${TOKEN_SCOPES.join(', ')}`);
  const now = input.now ?? Date.now();
  if (input.expiresAt !== undefined && !(input.expiresAt > now)) throw new OpsError('invalid', 'the expiry date is not in the future');
  const secret = PREFIX + randomBytes(32).toString('base64url');
  const db = table(ctx.db);
  const row: Row = { name: input.name, scope: input.scope, hash: hashOf(secret), created_at: now, created_by: ctx.actor, last_used_at: null, expires_at: input.expiresAt ?? null };
  try {
    db.prepare('INSERT INTO api_token (name, scope, hash, created_at, created_by, last_used_at, expires_at) VALUES (@name, @scope, @hash, @created_at, @created_by, @last_used_at, @expires_at)').run(row);
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new OpsError('conflict', `token "${input.name}" already exists`);
    throw e;
  }
  return { ...info(row), secret };
}

/** Every token, by name; never the secret. */
export async function listTokens(ctx: OpsContext): Promise<TokenInfo[]> {
  const rows = table(ctx.db).prepare('SELECT * FROM api_token ORDER BY name').all() as Row[];
  return rows.map(info);
}

/** Revoke token `name`. */
export async function removeToken(ctx: OpsContext, name: string): Promise<void> {
  const r = table(ctx.db).prepare('DELETE FROM api_token WHERE name = ?').run(name);
  if (r.changes === 0) throw new OpsError('not-found', `no token named "${name}"`);
  endSessionsOf(ctx.db, 'token', name);
  // Its secret is dead: the file that held it goes too.
  if (name.toLowerCase() === FIRST_LOGIN_TOKEN) rmSync(firstLoginPath(ctx.dataDir), { force: true });
}

/** Token `name` when it still exists and has not expired (a console session made with it ends otherwise). */
export function activeToken(db: Db, name: string, now = Date.now()): TokenInfo | undefined {
  const row = table(db).prepare('SELECT * FROM api_token WHERE name = ?').get(name) as Row | undefined;
  return row && (row.expires_at === null || row.expires_at > now) ? info(row) : undefined;
}

/** True when at least one token exists (the first-run login is made only when none does). */
export function anyToken(db: Db): boolean {
  return table(db).prepare('SELECT 1 FROM api_token LIMIT 1').get() !== undefined;
}

/**
 * The token `secret` belongs to, unexpired, or undefined; records its use (at most once a minute).
 * Synchronous: called by the API's auth hook on every request.
 */
export function verifyToken(db: Db, secret: string, now = Date.now()): TokenInfo | undefined {
  if (!secret.startsWith(PREFIX) || secret.length > 128) return undefined;
  const row = table(db).prepare('SELECT * FROM api_token WHERE hash = ?').get(hashOf(secret)) as Row | undefined;
  if (!row || (row.expires_at !== null && row.expires_at <= now)) return undefined;
  if (row.last_used_at === null || now - row.last_used_at >= TOUCH_MS) {
    db.prepare('UPDATE api_token SET last_used_at = ? WHERE name = ?').run(now, row.name);
    row.last_used_at = now;
  }
  return info(row);
}
