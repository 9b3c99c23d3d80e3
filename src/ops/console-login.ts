/**
 * @module ops/console-login
 * Logging in to the web console: an API token or a console user's password opens a session
 * (ops/sessions); a session is honoured only while what opened it still stands (the token exists
 * and has not expired; the user exists). The actor recorded for changes is the token's name, as
 * with a bearer token, or `console:NAME` for a console user.
 * Throttling is the API's (api/routes/session), which sees the client address.
 * First run: a data directory with no API token and no console user gets one admin token,
 * `console-first-login`, whose secret is written to a 0600 file in the data directory (never to
 * the log), so whoever ran `npm start` can open the console; `mailgate token remove
 * console-first-login` ends it (and deletes the file).
 * Touches: the api_token, console_user and console_session tables (through their modules); the
 * first-login file in the data directory.
 */
import { rmSync, writeFileSync } from 'node:fs';
import type { Db } from '../core/sqlite.ts';
import type { OpsContext } from './context.ts';
import { activeToken, addToken, anyToken, FIRST_LOGIN_TOKEN, firstLoginPath, removeToken, verifyToken, type TokenScope } from './tokens.ts';
import { anyConsoleUser, consoleActor, consoleUser, verifyConsoleUser } from './console-users.ts';
import { createSession, findSession, type SessionKind } from './sessions.ts';

/** A logged-in console session as the API sees it. */
export interface ConsoleSession {
  kind: SessionKind;
  /** Shown in the console: the token's or the user's name. */
  user: string;
  /** Recorded with every change. */
  actor: string;
  scope: TokenScope;
  csrf: string;
}

const actorOf = (kind: SessionKind, subject: string): string => (kind === 'user' ? consoleActor(subject) : subject);

/** Open a session for the API token `secret`; undefined when the token is unknown, revoked or expired. */
export function loginWithToken(db: Db, secret: string, now = Date.now()): { secret: string; session: ConsoleSession } | undefined {
  const t = verifyToken(db, secret, now);
  if (!t) return undefined;
  const s = createSession(db, { kind: 'token', subject: t.name, scope: t.scope }, now);
  return { secret: s.secret, session: { kind: 'token', user: t.name, actor: t.name, scope: t.scope, csrf: s.session.csrf } };
}

/** Open a session for console user `name`; undefined on an unknown name or a wrong password. */
export async function loginWithPassword(db: Db, name: string, password: string, now = Date.now()): Promise<{ secret: string; session: ConsoleSession } | undefined> {
  const u = await verifyConsoleUser(db, name, password);
  if (!u) return undefined;
  const s = createSession(db, { kind: 'user', subject: u.name, scope: u.scope }, now);
  return { secret: s.secret, session: { kind: 'user', user: u.name, actor: consoleActor(u.name), scope: u.scope, csrf: s.session.csrf } };
}

/** The session the cookie secret names, while it and what opened it are live. */
export function resumeSession(db: Db, secret: string, now = Date.now(), touch = true): ConsoleSession | undefined {
  const s = findSession(db, secret, now, touch);
  if (!s) return undefined;
  const live = s.kind === 'token' ? activeToken(db, s.subject, now) : consoleUser(db, s.subject);
  if (!live) return undefined;
  // The scope is the token's or user's now, not when the session began.
  return { kind: s.kind, user: s.subject, actor: actorOf(s.kind, s.subject), scope: live.scope, csrf: s.csrf };
}

/**
 * When nobody can log in yet (no API token, no console user), make the first-login admin token
 * and write its secret to the data directory's console-first-login.token (0600); returns that
 * file's path, else undefined.
 */
export async function ensureFirstLogin(ctx: OpsContext): Promise<string | undefined> {
  if (anyToken(ctx.db) || anyConsoleUser(ctx.db)) return undefined;
  const t = await addToken(ctx, { name: FIRST_LOGIN_TOKEN, scope: 'admin' });
  const file = firstLoginPath(ctx.dataDir);
  try {
    // A file left from before keeps its mode under a plain write: made anew, exclusively, 0600.
    rmSync(file, { force: true });
    writeFileSync(file, `${t.secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    await removeToken(ctx, FIRST_LOGIN_TOKEN); // no admin token whose secret nobody has
    throw e;
  }
  return file;
}
