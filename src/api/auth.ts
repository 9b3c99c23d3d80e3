/**
 * @module api/auth
 * The one gate of the admin API: every route declares its scope (a route without one is refused
 * when it is registered: fail closed), and one `onRequest` hook checks `Authorization: Bearer …`
 * against the stored tokens (ops/tokens) for every route but the public ones — or, without that
 * header, the web console's session cookie (ops/console-login), where every unsafe method must
 * also carry the session's `X-CSRF-Token` (403 otherwise: a cookie rides along with requests
 * another site makes, a header does not). No or a bad token →
 * 401 with `WWW-Authenticate: Bearer`; a token without the scope → 403; a client IP that sent
 * too many bad tokens → 429 with Retry-After, answered before its token is looked at (no oracle).
 * The throttle follows smtp/auth-throttle: failures per IP in a window, a lockout that doubles
 * for each repeat within a day (at most 16×), bounded memory. It lives in the queue owner, the
 * only process serving the API.
 * Touches: the api_token and console_session tables (through ops/); memory.
 * RFCs: 6750 (Bearer token usage: §3 WWW-Authenticate, invalid_token, insufficient_scope), 9110 §10.2.3 (Retry-After).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { verifyToken } from '../ops/tokens.ts';
import { resumeSession, type ConsoleSession } from '../ops/console-login.ts';
import type { ApiDeps } from './deps.ts';
import { problem, sendProblem } from './problem.ts';
import { SCOPE_ORDER, scopeCovers, type Scope } from './scope.ts';

/** Bad tokens one IP may send in WINDOW_MS before it is locked out. */
export const MAX_FAILURES = 10;
const WINDOW_MS = 5 * 60_000;
const LOCKOUT_MS = 60_000;
const DAY_MS = 86_400_000;
const MAX_ENTRIES = 10_000;
/** Locked entries may take the table this many times past its cap (module header of the class). */
const HARD_FACTOR = 2;
const REALM = 'Bearer realm="mailgate"';
/** The web console's session cookie on plain HTTP (loopback). */
export const SESSION_COOKIE = 'mailgate_session';
/**
 * Its name on HTTPS: the `__Host-` prefix makes the browser take it only with Secure, Path=/ and
 * no Domain from this very host, so a sibling host cannot plant or shadow it (RFC 6265bis §4.1.3.2).
 */
export const HOST_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    /** The console session the request came with (cookie), when it came with one. */
    consoleSession?: ConsoleSession;
    /** The scope the caller's token or session holds (set once authenticated). */
    heldScope?: Scope;
  }
}

/** The session cookie's name for `req`'s listener: prefixed on HTTPS (only that name is read there). */
export function sessionCookieName(req: FastifyRequest): string {
  return req.protocol === 'https' ? HOST_SESSION_COOKIE : SESSION_COOKIE;
}

/** The session cookie's value in `req`, if any. */
export function sessionCookie(req: FastifyRequest): string | undefined {
  const name = sessionCookieName(req);
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim() || undefined;
  }
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

interface Entry {
  failures: number[];
  lockedUntil: number;
  strikes: number;
}

/**
 * Failed credentials per key (a client IP; the console login also keys user names). Memory is
 * bounded by evicting stale, then unlocked entries, oldest first; a locked entry stays while it is
 * locked (else a flood of new keys would unlock it), past the cap up to HARD_FACTOR times it,
 * beyond which a new key goes uncounted until locks run out (that takes MAX_FAILURES × that many).
 */
export class ApiAuthThrottle {
  private readonly ips = new Map<string, Entry>();

  constructor(private readonly maxEntries = MAX_ENTRIES) {}

  /** When `ip` may try again (epoch ms), or undefined when it may now. */
  lockedUntil(ip: string, now: number): number | undefined {
    const e = this.ips.get(ip);
    return e && e.lockedUntil > now ? e.lockedUntil : undefined;
  }

  /** Count a bad token from `ip`; returns the lockout's end when this one started it. */
  failure(ip: string, now: number): number | undefined {
    let e = this.ips.get(ip);
    if (!e) {
      if (!this.makeRoom(now)) return undefined;
      e = { failures: [], lockedUntil: 0, strikes: 0 };
      this.ips.set(ip, e);
    }
    e.failures = e.failures.filter((t) => t > now - WINDOW_MS);
    e.failures.push(now);
    if (e.failures.length < MAX_FAILURES) return undefined;
    e.strikes = e.lockedUntil > 0 && now - e.lockedUntil < DAY_MS ? Math.min(e.strikes + 1, 5) : 1;
    e.lockedUntil = now + LOCKOUT_MS * 2 ** (e.strikes - 1);
    e.failures = [];
    return e.lockedUntil;
  }

  /** A good credential for `key`: its failures are forgotten (callers: a name, never a shared address). */
  success(key: string): void {
    this.ips.delete(key);
  }

  /** Entries held now (tests). */
  get size(): number {
    return this.ips.size;
  }

  /** Room for one more entry: false when the table is full of locked entries. */
  private makeRoom(now: number): boolean {
    if (this.ips.size < this.maxEntries) return true;
    for (const [k, e] of this.ips) {
      if (e.lockedUntil + DAY_MS <= now && (e.failures.at(-1) ?? 0) <= now - WINDOW_MS) this.ips.delete(k);
    }
    for (const [k, e] of this.ips) {
      if (this.ips.size < this.maxEntries) break;
      if (e.lockedUntil <= now) this.ips.delete(k);
    }
    return this.ips.size < this.maxEntries * HARD_FACTOR;
  }
}

/** The scope a route declares; throws (refusing the route) when it declares none. */
export function declaredScope(route: Pick<RouteOptions, 'method' | 'url' | 'config'>): Scope {
  const scope = (route.config as { scope?: unknown } | undefined)?.scope;
  if (typeof scope === 'string' && (SCOPE_ORDER as readonly string[]).includes(scope)) return scope as Scope;
  throw new Error(`admin API route ${String(route.method)} ${route.url} declares no scope (config: { scope: 'public' | 'read' | 'operate' | 'admin' })`);
}

function unauthorized(reply: FastifyReply, req: FastifyRequest, detail: string, error?: string): FastifyReply {
  reply.header('www-authenticate', error ? `${REALM}, error="${error}"` : REALM);
  return sendProblem(reply, problem(401, detail, req.url));
}

/** A registered route and the scope it declared. */
export interface RouteScope {
  method: string;
  url: string;
  scope: Scope;
}

/**
 * Install the scope check on route registration and the bearer-token hook; returns the list of
 * routes registered from now on, with their scopes (the OpenAPI test checks the document by it).
 */
export function installAuth(app: FastifyInstance, deps: ApiDeps, throttle = new ApiAuthThrottle()): RouteScope[] {
  const routes: RouteScope[] = [];
  app.addHook('onRoute', (route) => {
    const scope = declaredScope(route);
    for (const method of [route.method].flat()) routes.push({ method: String(method), url: route.url, scope });
  });
  app.addHook('onRequest', async (req, reply) => {
    if (req.is404) return;
    const needed = declaredScope(req.routeOptions as RouteOptions);
    if (needed === 'public') return;
    const now = Date.now();
    const locked = throttle.lockedUntil(req.ip, now);
    if (locked !== undefined) {
      reply.header('retry-after', String(Math.ceil((locked - now) / 1000)));
      return sendProblem(reply, problem(429, 'too many bad tokens from this address; try again later', req.url));
    }
    const cookie = req.headers.authorization === undefined ? sessionCookie(req) : undefined;
    if (cookie !== undefined) return checkSession(req, reply, deps, cookie, needed, now);
    const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(req.headers.authorization ?? '');
    if (!m?.[1]) return unauthorized(reply, req, 'this route needs a bearer token (mailgate token add NAME --scope …)');
    const token = verifyToken(deps.ops('anonymous').db, m[1], now);
    if (!token) {
      const until = throttle.failure(req.ip, now);
      if (until !== undefined) req.log.warn({ ip: req.ip, until: new Date(until).toISOString() }, 'admin API: bad tokens, address locked out');
      return unauthorized(reply, req, 'the bearer token is unknown, revoked or expired', 'invalid_token');
    }
    // No reset of the address's failures on a good token: the console login shares this count.
    if (!scopeCovers(token.scope, needed)) {
      reply.header('www-authenticate', `${REALM}, error="insufficient_scope", scope="${needed}"`);
      return sendProblem(reply, problem(403, `token "${token.name}" has scope ${token.scope}; this route needs ${needed}`, req.url));
    }
    req.actor = token.name;
    req.heldScope = token.scope;
  });
  return routes;
}

/**
 * A request with the console's cookie: the session must be live; a change must carry its CSRF
 * token; the scope is checked as for a token. A dead cookie is not counted as a bad token (a
 * browser left open overnight would lock its own address out); its 256-bit secret is not guessable.
 */
function checkSession(req: FastifyRequest, reply: FastifyReply, deps: ApiDeps, cookie: string, needed: Scope, now: number): FastifyReply | undefined {
  // `X-Mailgate-Background: 1`: the console refreshing a page by itself, which must not count as activity.
  const session = resumeSession(deps.ops('anonymous').db, cookie, now, req.headers['x-mailgate-background'] !== '1');
  if (!session) return unauthorized(reply, req, 'the console session has ended (logged out, expired or revoked): log in again', 'invalid_token');
  const csrf = req.headers['x-csrf-token'];
  if (!SAFE_METHODS.has(req.method) && (typeof csrf !== 'string' || !sameSecret(csrf, session.csrf))) {
    return sendProblem(reply, problem(403, 'this change needs the X-CSRF-Token of the console session', req.url));
  }
  if (!scopeCovers(session.scope, needed)) return sendProblem(reply, problem(403, `${session.user} has scope ${session.scope}; this needs ${needed}`, req.url));
  req.actor = session.actor;
  req.heldScope = session.scope;
  req.consoleSession = session;
  return undefined;
}
