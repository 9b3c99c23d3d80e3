import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { apiFixture } from '../../../test/helpers/api.ts';
import { removeDir, tempDir } from '../../../test/helpers/gateway.ts';
import { createTestCa, issueCert } from '../../../test/helpers/pki.ts';
import { buildApi } from '../build.ts';
import { MAX_FAILURES } from '../auth.ts';
import { addConsoleUser, removeConsoleUser, setConsoleUserPassword } from '../../ops/console-users.ts';
import { createSession, SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from '../../ops/sessions.ts';
import { resumeSession } from '../../ops/console-login.ts';
import { removeToken } from '../../ops/tokens.ts';
import { CONSOLE_CSP } from './console.ts';

/** The session cookie's `name=value` from a login answer, and its attributes. */
function sessionCookie(r: LightMyRequestResponse): { pair: string; attrs: string } {
  const raw = [r.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('mailgate_session='));
  assert.ok(raw, 'a session cookie is set');
  const i = raw.indexOf(';');
  return { pair: raw.slice(0, i), attrs: raw.slice(i) };
}

test('token login: HttpOnly SameSite=Strict cookie, who-am-I, cookie auth for reads, CSRF for changes, logout', async () => {
  const f = await apiFixture();
  try {
    const login = await f.app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: f.tokens.operate } });
    assert.equal(login.statusCode, 200);
    const { pair, attrs } = sessionCookie(login);
    assert.match(attrs, /; HttpOnly/);
    assert.match(attrs, /; SameSite=Strict/);
    assert.match(attrs, /; Path=\//);
    assert.match(attrs, /; Max-Age=28800/);
    assert.doesNotMatch(attrs, /Secure/, 'plain HTTP (loopback): no Secure flag');
    const body = login.json<{ user: string; scope: string; csrf: string }>();
    assert.equal(body.user, 'operate');
    assert.equal(body.scope, 'operate');
    assert.ok(body.csrf.length >= 20);
    assert.ok(!JSON.stringify(f.ctx.db.prepare('SELECT * FROM console_session').all()).includes(pair.split('=')[1] ?? '-'), 'only the hash is stored');

    const me = await f.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: pair } });
    assert.equal(me.statusCode, 200);
    assert.deepEqual(me.json(), body);
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/v1/alerts', headers: { cookie: `other=1; ${pair}` } })).statusCode, 200, 'a read with the cookie');

    const noCsrf = await f.app.inject({ method: 'POST', url: '/api/v1/alerts/999/ack', headers: { cookie: pair } });
    assert.equal(noCsrf.statusCode, 403);
    assert.match(noCsrf.json<{ detail: string }>().detail, /X-CSRF-Token/);
    const badCsrf = await f.app.inject({ method: 'POST', url: '/api/v1/alerts/999/ack', headers: { cookie: pair, 'x-csrf-token': body.csrf.slice(1) + 'x' } });
    assert.equal(badCsrf.statusCode, 403);
    const withCsrf = await f.app.inject({ method: 'POST', url: '/api/v1/alerts/999/ack', headers: { cookie: pair, 'x-csrf-token': body.csrf } });
    assert.equal(withCsrf.statusCode, 404, 'past the gate: the alert does not exist');
    const admin = await f.app.inject({ method: 'POST', url: '/api/v1/users', headers: { cookie: pair, 'x-csrf-token': body.csrf }, payload: { name: 'x@example.com', password: 'long enough password' } });
    assert.equal(admin.statusCode, 403, 'an operate session on an admin route');

    const logoutNoCsrf = await f.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie: pair } });
    assert.equal(logoutNoCsrf.statusCode, 403, 'logout is a change: another site cannot log the user out');
    const logout = await f.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie: pair, 'x-csrf-token': body.csrf } });
    assert.equal(logout.statusCode, 200);
    assert.deepEqual(logout.json(), { ended: true });
    assert.match(sessionCookie(logout).attrs, /Max-Age=0/);
    const after = await f.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: pair } });
    assert.equal(after.statusCode, 401);
    assert.match(after.json<{ detail: string }>().detail, /session has ended/);
  } finally {
    await f.close();
  }
});

test('console user login: scrypt password, actor console:NAME on changes, wrong password 401, removal and new password end sessions', async () => {
  const f = await apiFixture();
  try {
    const ops = f.deps.ops('test');
    await addConsoleUser(ops, { name: 'alice', scope: 'admin', password: 'correct horse battery' });
    await assert.rejects(addConsoleUser(ops, { name: 'bob', scope: 'read', password: 'short' }), /too short/);
    const hash = (f.ctx.db.prepare('SELECT hash FROM console_user').get() as { hash: string }).hash;
    assert.match(hash, /^scrypt\$/);
    const wrong = await f.app.inject({ method: 'POST', url: '/api/v1/session', payload: { user: 'alice', password: 'wrong horse battery' } });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.headers['set-cookie'], undefined);
    const unknown = await f.app.inject({ method: 'POST', url: '/api/v1/session', payload: { user: 'mallory', password: 'correct horse battery' } });
    assert.equal(unknown.statusCode, 401);
    assert.equal(unknown.json<{ detail: string }>().detail, wrong.json<{ detail: string }>().detail, 'the same answer for an unknown name');

    const login = await f.app.inject({ method: 'POST', url: '/api/v1/session', payload: { user: 'alice', password: 'correct horse battery' } });
    assert.equal(login.statusCode, 200);
    const { pair } = sessionCookie(login);
    const { csrf, user, scope } = login.json<{ user: string; scope: string; csrf: string }>();
    assert.deepEqual([user, scope], ['alice', 'admin']);
    const add = await f.app.inject({ method: 'POST', url: '/api/v1/users', headers: { cookie: pair, 'x-csrf-token': csrf }, payload: { name: 'scanner@example.com', password: 'a long password 1' } });
    assert.equal(add.statusCode, 200, add.body);
    assert.equal((await f.ctx.store.history(1))[0]?.actor, 'console:alice', 'the change is recorded as the console user');

    await setConsoleUserPassword(ops, 'alice', 'another long password');
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: pair } })).statusCode, 401, 'a new password ends the session');
    const again = sessionCookie(await f.app.inject({ method: 'POST', url: '/api/v1/session', payload: { user: 'alice', password: 'another long password' } })).pair;
    await removeConsoleUser(ops, 'alice');
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: again } })).statusCode, 401, 'removal ends the session');
  } finally {
    await f.close();
  }
});

test('a session ends 1 h idle or 8 h after login, and when its token is removed', async () => {
  const f = await apiFixture();
  try {
    const now = Date.now();
    const s = createSession(f.ctx.db, { kind: 'token', subject: 'read', scope: 'read' }, now);
    assert.ok(resumeSession(f.ctx.db, s.secret, now + SESSION_IDLE_MS - 60_000));
    assert.equal(resumeSession(f.ctx.db, s.secret, now + 2 * SESSION_IDLE_MS), undefined, 'idle past an hour');
    const busy = createSession(f.ctx.db, { kind: 'token', subject: 'read', scope: 'read' }, now);
    for (let t = now; t < now + SESSION_ABSOLUTE_MS - 60_000; t += SESSION_IDLE_MS / 2) assert.ok(resumeSession(f.ctx.db, busy.secret, t), 'used every half hour');
    assert.equal(resumeSession(f.ctx.db, busy.secret, now + SESSION_ABSOLUTE_MS), undefined, '8 hours after login, however busy');
    const login = await f.app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: f.tokens.read } });
    const { pair } = sessionCookie(login);
    await removeToken(f.deps.ops('test'), 'read');
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: pair } })).statusCode, 401);
  } finally {
    await f.close();
  }
});

test('failed logins are throttled per address and per user name (429 with Retry-After, before the password is checked)', async () => {
  const f = await apiFixture();
  try {
    await addConsoleUser(f.deps.ops('test'), { name: 'alice', scope: 'read', password: 'correct horse battery' });
    for (let i = 0; i < MAX_FAILURES; i++) {
      const r = await f.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: '127.0.0.9', payload: { token: `mgt_guess${i}` } });
      assert.equal(r.statusCode, 401);
    }
    const locked = await f.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: '127.0.0.9', payload: { token: f.tokens.read } });
    assert.equal(locked.statusCode, 429, 'even the right token, once locked');
    assert.ok(Number(locked.headers['retry-after']) > 0);
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/v1/alerts', remoteAddress: '127.0.0.9', headers: { authorization: `Bearer ${f.tokens.read}` } })).statusCode, 429, 'one throttle with the bearer check');
    assert.equal((await f.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: '127.0.0.10', payload: { token: f.tokens.read } })).statusCode, 200, 'another address is not locked');

    for (let i = 0; i < MAX_FAILURES; i++) {
      const r = await f.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: `127.0.1.${i + 1}`, payload: { user: 'Alice', password: `guess ${i} xxxxxx` } });
      assert.equal(r.statusCode, 401);
    }
    const userLocked = await f.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: '127.0.2.1', payload: { user: 'alice', password: 'correct horse battery' } });
    assert.equal(userLocked.statusCode, 429, 'guesses spread over addresses still lock the name');
    const bad = await f.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: '127.0.2.2', payload: { token: 'x', password: 'y' } });
    assert.equal(bad.statusCode, 400);
  } finally {
    await f.close();
  }
});

test('a page refreshing itself (X-Mailgate-Background: 1) does not keep the session alive; the admin\'s own request does', async () => {
  const f = await apiFixture();
  try {
    const login = await f.app.inject({ method: 'POST', url: '/api/v1/session', payload: { token: f.tokens.read } });
    const { pair } = sessionCookie(login);
    const lastSeen = (): number => (f.ctx.db.prepare('SELECT last_seen_at AS t FROM console_session').get() as { t: number }).t;
    const past = Date.now() - SESSION_IDLE_MS / 2;
    f.ctx.db.prepare('UPDATE console_session SET last_seen_at = ?').run(past);
    const poll = await f.app.inject({ method: 'GET', url: '/api/v1/alerts', headers: { cookie: pair, 'x-mailgate-background': '1' } });
    assert.equal(poll.statusCode, 200, poll.body);
    assert.equal(lastSeen(), past, 'a background refresh is not activity');
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/v1/alerts', headers: { cookie: pair } })).statusCode, 200);
    assert.ok(lastSeen() > past, 'the admin\'s own request is');
  } finally {
    await f.close();
  }
});

test('a burst of parallel password guesses is checked one at a time: no more guesses than the throttle allows', async () => {
  const f = await apiFixture();
  try {
    await addConsoleUser(f.deps.ops('test'), { name: 'alice', scope: 'read', password: 'correct horse battery' });
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) => f.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: `127.0.3.${i + 1}`, payload: { user: 'alice', password: `guess ${i} xxxxxx` } })),
    );
    const checked = burst.filter((r) => r.statusCode === 401).length;
    assert.ok(checked >= 1 && checked <= MAX_FAILURES, `${checked} guesses were checked`);
    assert.ok(burst.every((r) => r.statusCode === 401 || r.statusCode === 429), burst.map((r) => r.statusCode).join(' '));
  } finally {
    await f.close();
  }
});

test('the console is served at / with a strict CSP; assets are immutable; only built files are served; not built → a page saying so', async () => {
  const f = await apiFixture();
  const web = tempDir('mailgate-web-');
  try {
    const bare = await f.app.inject({ method: 'GET', url: '/' });
    assert.equal(bare.statusCode, 200);
    assert.match(bare.body, /npm run build/);
    assert.equal(bare.headers['content-security-policy'], CONSOLE_CSP);
    mkdirSync(join(web, 'assets'));
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>t</title><script type="module" src="assets/app-ABC.js"></script>');
    writeFileSync(join(web, 'assets', 'app-ABC.js'), 'console.log(1)');
    writeFileSync(join(web, 'secret.txt'), 'no');
    const app = await buildApi({ ...f.deps, webDir: web });
    try {
      const index = await app.inject({ method: 'GET', url: '/' });
      assert.equal(index.statusCode, 200);
      assert.match(index.headers['content-type'] as string, /^text\/html/);
      assert.match(index.body, /app-ABC\.js/);
      assert.equal(index.headers['content-security-policy'], "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
      assert.equal(index.headers['x-content-type-options'], 'nosniff');
      assert.equal(index.headers['referrer-policy'], 'no-referrer');
      assert.equal(index.headers['cache-control'], 'no-cache');
      const js = await app.inject({ method: 'GET', url: '/assets/app-ABC.js' });
      assert.equal(js.statusCode, 200);
      assert.match(js.headers['content-type'] as string, /^text\/javascript/);
      assert.match(js.headers['cache-control'] as string, /immutable/);
      for (const url of ['/assets/..%2Fsecret.txt', '/assets/../secret.txt', '/assets/app-XYZ.js', '/secret.txt']) {
        assert.equal((await app.inject({ method: 'GET', url })).statusCode, 404, url);
      }
    } finally {
      await app.close();
    }
  } finally {
    removeDir(web);
    await f.close();
  }
});

test('over HTTPS the session cookie is __Host-mailgate_session, Secure, Path=/, no Domain; only that name is read there; a bearer caller asking who it is gets its token name and scope', async () => {
  const f = await apiFixture();
  const ca = createTestCa();
  const leaf = issueCert(ca, { cn: 'localhost', sans: ['IP:127.0.0.1'], server: true });
  const app = await buildApi(f.deps, { https: { key: leaf.key, cert: leaf.cert } });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    const send = (method: string, path: string, body?: string, extra: Record<string, string> = {}) =>
      new Promise<{ status: number; cookie: string; body: string }>((resolve, reject) => {
        const headers: Record<string, string | number> = body === undefined ? { ...extra } : { ...extra, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
        const req = httpsRequest({ host: '127.0.0.1', port, path, method, rejectUnauthorized: false, headers }, (r) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, cookie: [r.headers['set-cookie'] ?? []].flat().join('\n'), body: Buffer.concat(chunks).toString() }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const res = await send('POST', '/api/v1/session', JSON.stringify({ token: f.tokens.read }));
    assert.equal(res.status, 200);
    assert.match(res.cookie, /^__Host-mailgate_session=mgs_[^;]+; HttpOnly; SameSite=Strict; Path=\/; Max-Age=28800; Secure$/);
    assert.doesNotMatch(res.cookie, /Domain=/i);
    const pair = res.cookie.slice(0, res.cookie.indexOf(';'));
    const me = await send('GET', '/api/v1/session', undefined, { cookie: pair });
    assert.equal(me.status, 200, me.body);
    assert.equal((JSON.parse(me.body) as { user: string }).user, 'read');
    const secret = pair.slice(pair.indexOf('=') + 1);
    assert.equal((await send('GET', '/api/v1/session', undefined, { cookie: `mailgate_session=${secret}` })).status, 401, 'the unprefixed name is not read on HTTPS');
    const csrf = (JSON.parse(me.body) as { csrf: string }).csrf;
    assert.equal((await send('DELETE', '/api/v1/session', undefined, { cookie: pair })).status, 403, 'logout needs the CSRF token');
    const ended = await send('DELETE', '/api/v1/session', undefined, { cookie: pair, 'x-csrf-token': csrf });
    assert.equal(ended.status, 200);
    assert.match(ended.cookie, /^__Host-mailgate_session=; HttpOnly; SameSite=Strict; Path=\/; Max-Age=0; Secure$/, 'logout clears the prefixed cookie');
    const bearer = await f.call('operate', { method: 'GET', url: '/api/v1/session' });
    assert.deepEqual(bearer.json(), { user: 'operate', scope: 'operate', csrf: '' });
  } finally {
    await app.close();
    await f.close();
  }
});

test('a flood of failures from new addresses neither unlocks a locked address nor stops counting new ones (bounded table)', async () => {
  const f = await apiFixture();
  try {
    const login = (ip: string, token: string) => f.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: ip, payload: { token } });
    for (let i = 0; i < MAX_FAILURES; i++) assert.equal((await login('127.0.0.9', `mgt_guess${i}`)).statusCode, 401);
    assert.equal((await login('127.0.0.9', f.tokens.read)).statusCode, 429);
    // More new addresses than the table holds (10 000), each with one bad token.
    for (let i = 0; i < 10_050; i++) await f.app.inject({ method: 'GET', url: '/api/v1/alerts', remoteAddress: `10.0.${i >> 8}.${i & 255}`, headers: { authorization: `Bearer mgt_flood${i}` } });
    assert.equal((await login('127.0.0.9', f.tokens.read)).statusCode, 429, 'still locked after the flood');
    // A newcomer after the flood is still counted (the full table made room by evicting unlocked entries).
    for (let i = 0; i < MAX_FAILURES; i++) assert.equal((await login('127.0.0.20', `mgt_guess${i}`)).statusCode, 401);
    assert.equal((await login('127.0.0.20', f.tokens.read)).statusCode, 429, 'a new address is locked too');
    assert.ok(f.app.authThrottle.size <= 10_000, `bounded: ${f.app.authThrottle.size}`);
  } finally {
    await f.close();
  }
});

test('a good login clears that name\'s failures, not the address\'s: a guesser with one valid account keeps its count', async () => {
  const f = await apiFixture();
  try {
    await addConsoleUser(f.deps.ops('test'), { name: 'mallory', scope: 'read', password: 'mallory own password' });
    const login = (payload: object) => f.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: '127.0.4.1', payload });
    for (let i = 0; i < MAX_FAILURES - 1; i++) assert.equal((await login({ user: `victim${i}`, password: `guess ${i} xxxxxx` })).statusCode, 401);
    assert.equal((await login({ user: 'mallory', password: 'mallory own password' })).statusCode, 200);
    assert.equal((await login({ token: f.tokens.read })).statusCode, 200, 'a good token neither');
    assert.equal((await f.app.inject({ method: 'GET', url: '/api/v1/alerts', remoteAddress: '127.0.4.1', headers: { authorization: `Bearer ${f.tokens.read}` } })).statusCode, 200);
    assert.equal((await login({ user: 'victim9', password: 'guess 9 xxxxxx' })).statusCode, 401);
    assert.equal((await login({ user: 'victim10', password: 'guess 10 xxxxxx' })).statusCode, 429, 'the address reached its limit');
    // The name's own failures are cleared by its good login.
    for (let i = 0; i < MAX_FAILURES - 1; i++) {
      assert.equal((await f.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: `127.0.5.${i + 1}`, payload: { user: 'mallory', password: `wrong ${i} xxxxxx` } })).statusCode, 401);
    }
    assert.equal((await f.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: '127.0.6.1', payload: { user: 'mallory', password: 'mallory own password' } })).statusCode, 200);
    assert.equal((await f.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: '127.0.6.2', payload: { user: 'mallory', password: 'wrong again xxxxxx' } })).statusCode, 401, 'not locked: the count began again');
  } finally {
    await f.close();
  }
});
