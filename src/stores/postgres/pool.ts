/**
 * @module stores/postgres/pool
 * Opens a `pg` Pool on a PostgreSQL URL with the session settings every adapter relies on, set at
 * connection start (no per-query SET): `search_path` = the mailgate schema (one database can hold
 * several fleets, and each test its own schema), an optional `statement_timeout`, and an optional
 * read-only session (`default_transaction_read_only`, optionally under a role) for hunts.
 * Schema and role names are checked against a plain identifier pattern, never quoted from input.
 * Touches: the network connection to PostgreSQL.
 */
import pg from 'pg';
import { StoreUnavailableError } from '../../config/store.ts';
import { guardClient } from './checkout.ts';

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

export interface PgOptions {
  /** `postgres://user[:password]@host[:port]/database` (libpq URL). */
  url: string;
  /** The schema holding mailgate's tables (default `mailgate`). */
  schema?: string;
  /** Cancel any statement running longer than this (ms; 0 or absent: no limit). */
  statementTimeoutMs?: number;
  /** Every transaction read-only (hunts and ad hoc reports). */
  readOnly?: boolean;
  /** `SET ROLE` to this role at connection start (e.g. a role with SELECT only). */
  role?: string;
  /** Pool size (default 4: a gateway node needs few connections). */
  max?: number;
  /** Shown in pg_stat_activity (default `mailgate`). */
  applicationName?: string;
  /** Give up connecting after this long (ms; default 5000). */
  connectTimeoutMs?: number;
}

export const DEFAULT_SCHEMA = 'mailgate';
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws unless `name` is a plain lower-case SQL identifier (safe unquoted, same as quoted). */
export function checkIdentifier(name: string, what = 'schema'): string {
  if (!IDENT.test(name)) throw new Error(`invalid PostgreSQL ${what} name ${JSON.stringify(name)}: use a-z, 0-9 and _ (not starting with a digit), at most 63 characters`);
  return name;
}

/** The connection-start options string (libpq `options`: `-c name=value` pairs). */
export function sessionOptions(opts: Omit<PgOptions, 'url'>): string {
  const parts = [`-c search_path=${checkIdentifier(opts.schema ?? DEFAULT_SCHEMA)}`];
  if (opts.statementTimeoutMs && opts.statementTimeoutMs > 0) parts.push(`-c statement_timeout=${Math.floor(opts.statementTimeoutMs)}`);
  if (opts.readOnly) parts.push('-c default_transaction_read_only=on');
  if (opts.role) parts.push(`-c role=${checkIdentifier(opts.role, 'role')}`);
  return parts.join(' ');
}

/** A pool on `opts.url` whose every connection has the schema's search_path and the options set. */
export function openPool(opts: PgOptions): PgPool {
  const pool = new pg.Pool({
    connectionString: opts.url,
    options: sessionOptions(opts),
    max: opts.max ?? 4,
    application_name: opts.applicationName ?? 'mailgate',
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client's connection dropping (server restart) must not crash the process; the next
  // query gets a fresh connection or a clear error.
  pool.on('error', () => {});
  return pool;
}

/** The URL with any password replaced by `***` (for logs and messages). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

const GONE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/**
 * True when `e` says the server could not be reached or went away (not a refused statement):
 * socket errors, pg's own connection messages, and SQLSTATE classes 08 (connection) and 57P
 * (shutdown, starting up).
 */
export function isUnreachable(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | undefined;
  const code = typeof err?.code === 'string' ? err.code : '';
  if (GONE.has(code) || code.startsWith('08') || code.startsWith('57P')) return true;
  return typeof err?.message === 'string' && /Connection terminated|connection timeout|timeout exceeded when trying to connect/i.test(err.message);
}

/** `fn`, with an unreachable server reported as StoreUnavailableError naming `where` (CLI: one line; API: 503). */
export async function guarded<T>(where: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw isUnreachable(e) ? new StoreUnavailableError(where, e) : e;
  }
}

/** Run `fn` inside BEGIN … COMMIT on one client (ROLLBACK on any error). */
export async function inTransaction<T>(pool: PgPool, fn: (c: PgClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  const guard = guardClient(c);
  let broken = false;
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    // A connection that cannot even roll back is dropped, not handed to the next caller.
    await c.query('ROLLBACK').catch(() => (broken = true));
    throw e;
  } finally {
    guard.release(broken);
  }
}
