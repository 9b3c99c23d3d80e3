/**
 * @module ops/console-users
 * People who log in to the web console with a name and password (`mailgate console-user
 * add|list|remove|passwd`), each with an admin API scope (read, operate, admin). Passwords are
 * kept as scrypt hashes (config/passwords: salted, constant-time compare); an unknown name costs
 * the same scrypt as a wrong password, so timing does not tell which names exist. Removing a user
 * or changing their password ends their console sessions. Changes they make are recorded as
 * `console:NAME`. These are not SMTP AUTH users (ops/users): a mailbox password should not open
 * the admin console, and an admin's should not send mail.
 * Touches: the console_user table (and console_session through ops/sessions) of the data
 * directory's SQLite database.
 */
import { type Db, schemaOnce } from '../core/sqlite.ts';
import { hashPassword, verifyPassword } from '../config/passwords.ts';
import type { OpsContext } from './context.ts';
import { OpsError } from './errors.ts';
import { endSessionsOf } from './sessions.ts';
import { TOKEN_SCOPES, type TokenScope } from './tokens.ts';

export interface ConsoleUser {
  name: string;
  scope: TokenScope;
  createdAt: number;
  createdBy: string;
  passwordChangedAt: number;
}

const SCHEMA = `CREATE TABLE IF NOT EXISTS console_user (
  name                TEXT PRIMARY KEY COLLATE NOCASE,
  scope               TEXT NOT NULL,
  hash                TEXT NOT NULL,
  created_at          INTEGER NOT NULL,
  created_by          TEXT NOT NULL,
  password_changed_at INTEGER NOT NULL
)`;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const MIN_PASSWORD = 10;
const MAX_PASSWORD = 1024;

interface Row {
  name: string;
  scope: TokenScope;
  hash: string;
  created_at: number;
  created_by: string;
  password_changed_at: number;
}

const table = schemaOnce(SCHEMA);

const info = (r: Row): ConsoleUser => ({ name: r.name, scope: r.scope, createdAt: r.created_at, createdBy: r.created_by, passwordChangedAt: r.password_changed_at });

function checkPassword(pw: string): void {
  if (pw.length < MIN_PASSWORD) throw new OpsError('invalid', `the password is too short (at least ${MIN_PASSWORD} characters)`);
  if (pw.length > MAX_PASSWORD) throw new OpsError('invalid', `the password is too long (at most ${MAX_PASSWORD} characters)`);
}

/** The actor a console user's changes are recorded as. */
export function consoleActor(name: string): string {
  return `console:${name}`;
}

/** Add console user `name` with `scope` and `password`. */
export async function addConsoleUser(ctx: OpsContext, input: { name: string; scope: TokenScope; password: string; now?: number }): Promise<ConsoleUser> {
  if (!NAME.test(input.name)) throw new OpsError('invalid', `console user name "${input.name}": letters, digits and . _ @ - (at most 64)`);
  if (!TOKEN_SCOPES.includes(input.scope)) throw new OpsError('invalid', `console user scope "${String(input.scope)}": one of ${TOKEN_SCOPES.join(', ')}`);
  checkPassword(input.password);
  const now = input.now ?? Date.now();
  const row: Row = { name: input.name, scope: input.scope, hash: await hashPassword(input.password), created_at: now, created_by: ctx.actor, password_changed_at: now };
  try {
    table(ctx.db).prepare('INSERT INTO console_user (name, scope, hash, created_at, created_by, password_changed_at) VALUES (@name, @scope, @hash, @created_at, @created_by, @password_changed_at)').run(row);
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new OpsError('conflict', `console user "${input.name}" already exists`);
    throw e;
  }
  return info(row);
}

/** Every console user, by name; never the hashes. */
export async function listConsoleUsers(ctx: OpsContext): Promise<ConsoleUser[]> {
  return (table(ctx.db).prepare('SELECT * FROM console_user ORDER BY name').all() as Row[]).map(info);
}

/** Remove console user `name` and end their sessions. */
export async function removeConsoleUser(ctx: OpsContext, name: string): Promise<void> {
  const r = table(ctx.db).prepare('DELETE FROM console_user WHERE name = ?').run(name);
  if (r.changes === 0) throw new OpsError('not-found', `no console user named "${name}"`);
  endSessionsOf(ctx.db, 'user', name);
}

/** Set console user `name`'s password; their sessions end. */
export async function setConsoleUserPassword(ctx: OpsContext, name: string, password: string, now = Date.now()): Promise<void> {
  checkPassword(password);
  const hash = await hashPassword(password);
  const r = table(ctx.db).prepare('UPDATE console_user SET hash = ?, password_changed_at = ? WHERE name = ?').run(hash, now, name);
  if (r.changes === 0) throw new OpsError('not-found', `no console user named "${name}"`);
  endSessionsOf(ctx.db, 'user', name);
}

/** Console user `name` when it exists (a session made by it ends otherwise). */
export function consoleUser(db: Db, name: string): ConsoleUser | undefined {
  const r = table(db).prepare('SELECT * FROM console_user WHERE name = ?').get(name) as Row | undefined;
  return r ? info(r) : undefined;
}

/** True when at least one console user exists. */
export function anyConsoleUser(db: Db): boolean {
  return table(db).prepare('SELECT 1 FROM console_user LIMIT 1').get() !== undefined;
}

// A well-formed hash no password matches, verified when the name is unknown so both cases cost one scrypt.
let dummyHash: Promise<string> | undefined;

/** The user `name` whose password is `password`, or undefined (unknown name or wrong password). */
export async function verifyConsoleUser(db: Db, name: string, password: string): Promise<ConsoleUser | undefined> {
  if (password.length > MAX_PASSWORD || name.length > 64) return undefined;
  const r = table(db).prepare('SELECT * FROM console_user WHERE name = ?').get(name) as Row | undefined;
  if (!r) {
    dummyHash ??= hashPassword(`unknown-${Math.random()}`);
    await verifyPassword(password, await dummyHash);
    return undefined;
  }
  return (await verifyPassword(password, r.hash)) ? info(r) : undefined;
}
