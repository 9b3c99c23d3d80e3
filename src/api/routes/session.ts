/**
 * @module api/routes/session
 * The web console's login:
 *   POST   /api/v1/session   {token} or {user, password} → a session cookie and {user, scope, csrf}   public
 *   GET    /api/v1/session   who am I (and the CSRF token the console sends back on changes)       read
 *   DELETE /api/v1/session   log out: the session ends and the cookie is cleared                   read
 * The cookie `mailgate_session` (on HTTPS `__Host-mailgate_session`, Secure, no Domain) is HttpOnly
 * (no script reads it), SameSite=Strict (no other site's request carries it), Path=/, and lives
 * 8 hours at most (ops/sessions also ends it after an idle hour). Failed logins are throttled per client address, with the same throttle
 * as bad bearer tokens (api/auth), and per user name (a guesser spreading over addresses still
 * meets the per-name lockout); a locked address or name gets 429 before its password is checked.
 * A good login forgets that name's failures only, never its address's.
 * Touches: nothing itself (ops/console-login reads and writes the store).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { endSession } from '../../ops/sessions.ts';
import { loginWithPassword, loginWithToken, type ConsoleSession } from '../../ops/console-login.ts';
import { SESSION_ABSOLUTE_MS } from '../../ops/sessions.ts';
import type { ApiDeps } from '../deps.ts';
import { ApiAuthThrottle, sessionCookie, sessionCookieName } from '../auth.ts';
import { problem, sendProblem } from '../problem.ts';
import { actorOf } from '../scope.ts';
import { jsonSchema, parseInput, problemResponses } from '../schema.ts';

const Login = z.union([
  z.object({ token: z.string().min(1).max(256) }).strict(),
  z.object({ user: z.string().min(1).max(64), password: z.string().min(1).max(1024) }).strict(),
]);
const SessionOut = z.object({ user: z.string(), scope: z.enum(['read', 'operate', 'admin']), csrf: z.string() });
const Ended = z.object({ ended: z.boolean() });

function cookie(req: FastifyRequest, value: string, maxAgeS: number): string {
  // On HTTPS the name is __Host-…, which needs exactly Secure, Path=/ and no Domain.
  return `${sessionCookieName(req)}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeS}${req.protocol === 'https' ? '; Secure' : ''}`;
}

function retryLater(reply: FastifyReply, req: FastifyRequest, until: number, now: number): FastifyReply {
  reply.header('retry-after', String(Math.ceil((until - now) / 1000)));
  return sendProblem(reply, problem(429, 'too many failed logins; try again later', req.url));
}

const out = (s: ConsoleSession): z.infer<typeof SessionOut> => ({ user: s.user, scope: s.scope, csrf: s.csrf });

export function sessionRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const perUser = new ApiAuthThrottle();
  const checking = new Set<string>();
  app.post(
    '/api/v1/session',
    {
      config: { scope: 'public' },
      schema: { summary: 'log in to the web console (API token, or console user and password); sets the session cookie', body: jsonSchema(Login, 'input'), response: { 200: jsonSchema(SessionOut), ...problemResponses(400) } },
    },
    async (req, reply) => {
      const body = parseInput(Login, req.body);
      const now = Date.now();
      const db = deps.ops('anonymous').db;
      const userKey = 'user' in body ? `user:${body.user.toLowerCase()}` : undefined;
      const locked = app.authThrottle.lockedUntil(req.ip, now) ?? (userKey ? perUser.lockedUntil(userKey, now) : undefined);
      if (locked !== undefined) return retryLater(reply, req, locked, now);
      let opened: Awaited<ReturnType<typeof loginWithPassword>>;
      if ('token' in body) opened = loginWithToken(db, body.token, now);
      else {
        // One password check at a time per address and per name: a burst of parallel guesses would
        // otherwise all pass the lockout check above while scrypt runs, before any failure counts.
        const keys = [`ip:${req.ip}`, userKey ?? ''];
        if (keys.some((k) => checking.has(k))) return retryLater(reply, req, now + 1000, now);
        for (const k of keys) checking.add(k);
        try {
          opened = await loginWithPassword(db, body.user, body.password, now);
        } finally {
          for (const k of keys) checking.delete(k);
        }
      }
      if (!opened) {
        const until = app.authThrottle.failure(req.ip, now);
        if (userKey) perUser.failure(userKey, now);
        if (until !== undefined) req.log.warn({ ip: req.ip, until: new Date(until).toISOString() }, 'console: failed logins, address locked out');
        req.log.info({ ip: req.ip, user: 'user' in body ? body.user : undefined }, 'console: failed login');
        reply.header('www-authenticate', 'Bearer realm="mailgate"');
        return sendProblem(reply, problem(401, 'token' in body ? 'the token is unknown, revoked or expired' : 'wrong user name or password', req.url));
      }
      // Only the name's failures are forgotten: the address's run out with their window, or a
      // guesser holding one valid account would reset its own address's count with it.
      if (userKey) perUser.success(userKey);
      req.log.info({ ip: req.ip, actor: opened.session.actor, scope: opened.session.scope }, 'console: login');
      reply.header('set-cookie', cookie(req, opened.secret, SESSION_ABSOLUTE_MS / 1000)).header('cache-control', 'no-store');
      return out(opened.session);
    },
  );
  app.get('/api/v1/session', { config: { scope: 'read' }, schema: { summary: 'the console session: who is logged in, scope, CSRF token', response: { 200: jsonSchema(SessionOut), ...problemResponses() } } }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    // A bearer caller has no session and needs no CSRF token.
    return req.consoleSession ? out(req.consoleSession) : { user: actorOf(req), scope: req.heldScope ?? 'read', csrf: '' };
  });
  app.delete('/api/v1/session', { config: { scope: 'read' }, schema: { summary: 'log out of the console', response: { 200: jsonSchema(Ended), ...problemResponses() } } }, async (req, reply) => {
    const secret = sessionCookie(req);
    const ended = secret !== undefined && req.consoleSession !== undefined ? endSession(deps.ops('anonymous').db, secret) : false;
    if (ended) req.log.info({ actor: actorOf(req) }, 'console: logout');
    reply.header('set-cookie', cookie(req, '', 0));
    return { ended };
  });
}
